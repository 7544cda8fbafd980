import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parse } from 'yaml';
import { ManualClock } from '../../core/clock.js';
import { demoConfig } from '../../core/config/demo.js';
import { validateConfig } from '../../core/config/validate.js';
import { DEVICE_STATUS_CODE, INFLUX_SCHEMA } from '../../core/influx-schema.js';
import { getInterval } from '../../ledger/intervals.js';
import { listIntervalStatements } from '../../ledger/statements.js';
import { getClearing } from '../../ledger/clearing.js';
import { startMicrogrid } from '../../app/start.js';
import { freePort } from '../../meter-bridge/simulators/free-port.js';
import { startProcess, waitUntil } from '../meter-bridge/helpers.js';
import { pollAll } from '../e2e/poll.js';
import { tempDir } from '../helpers/tmp.js';
import { checkFluxAgainstSchema, dashboardQueries, fluxNames } from './flux-check.js';

/**
 * The Grafana provisioning shipped in deploy/grafana/ against the engine's
 * InfluxDB schema (core/influx-schema.ts): every Flux query of the dashboard
 * names only measurements, fields and tags the schema has; and the names the
 * queries use are the names that arrive when the real engine writes through
 * the real sink to a real v2 write API (Debian's victoria-metrics, which
 * stores measurement + field as the series `<measurement>_<field>` and tags
 * as labels).
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const DASHBOARD = join(root, 'deploy/grafana/dashboards/microgrid.json');
const readJson = (p: string): { panels: unknown[]; uid?: string; title?: string; schemaVersion?: number } =>
  JSON.parse(readFileSync(p, 'utf8')) as never;
const readYaml = (rel: string): Record<string, unknown> =>
  parse(readFileSync(join(root, rel), 'utf8')) as Record<string, unknown>;

test('the datasource provisioning is InfluxDB v2 with Flux, url, org, bucket and token from the environment', () => {
  const y = readYaml('deploy/grafana/provisioning/datasources/influxdb.yaml');
  assert.equal(y.apiVersion, 1);
  const ds = y.datasources as Record<string, unknown>[];
  assert.equal(ds.length, 1);
  const d = ds[0]!;
  assert.equal(d.type, 'influxdb');
  assert.equal(d.uid, 'mgx-influxdb');
  assert.equal(d.access, 'proxy');
  assert.equal(d.url, '${MGX_INFLUX_URL}');
  const j = d.jsonData as Record<string, unknown>;
  assert.equal(j.version, 'Flux');
  assert.equal(j.organization, '${MGX_INFLUX_ORG}');
  assert.equal(j.defaultBucket, '${MGX_INFLUX_BUCKET}');
  // The token is a secret: secureJsonData (encrypted by Grafana), never jsonData.
  assert.deepEqual(d.secureJsonData, { token: '${MGX_INFLUX_TOKEN}' });
  assert.ok(!JSON.stringify(j).includes('token'));
});

test('the dashboard provider loads the dashboards folder from files', () => {
  const y = readYaml('deploy/grafana/provisioning/dashboards/microgrid.yaml');
  assert.equal(y.apiVersion, 1);
  const [p, ...more] = y.providers as Record<string, unknown>[];
  assert.equal(more.length, 0);
  assert.equal(p!.type, 'file');
  assert.equal(typeof p!.name, 'string');
  assert.match(String((p!.options as Record<string, unknown>).path), /^\/.+/);
});

test('every dashboard query names only measurements, fields and tags of the Influx schema, through the provisioned data source', () => {
  const dash = readJson(DASHBOARD);
  assert.equal(dash.uid, 'mgx-microgrid');
  assert.ok(typeof dash.schemaVersion === 'number' && dash.schemaVersion >= 36);
  const queries = dashboardQueries(dash);
  const problems = queries.flatMap((q) => {
    const ds = q.datasource as { type?: string; uid?: string } | undefined;
    const p = checkFluxAgainstSchema(q.query);
    if (ds?.type !== 'influxdb' || ds.uid !== 'mgx-influxdb')
      p.push(`data source ${JSON.stringify(ds)} is not the provisioned one (influxdb, mgx-influxdb)`);
    return p.map((x) => `${q.panel} / ${q.refId}: ${x}`);
  });
  assert.deepEqual(problems, []);
  // The panels the issue asks for, and each reads the measurement it is about.
  const titles = new Map<string, string[]>();
  for (const q of queries)
    titles.set(q.panel, [
      ...(titles.get(q.panel) ?? []),
      ...fluxNames(q.query).fields.map((f) => `${fluxNames(q.query).measurements[0]}.${f}`),
    ]);
  assert.ok(titles.get('Power flow')!.includes('meter_reading.power_w'));
  assert.ok(titles.get('Energy: local, grid import, grid export')!.includes('interval_result.grid_import_wh'));
  assert.ok(titles.get('Clearing price')!.includes('interval_result.clearing_price'));
  assert.ok(titles.get('Local share per interval')!.includes('interval_result.local_share'));
  assert.ok(titles.get('Device status')!.includes('device_health.status_code'));
  // The device status panel maps the writer's codes to their names.
  const status = (
    dash.panels as {
      title: string;
      fieldConfig: { defaults: { mappings: { options: Record<string, { text: string }> }[] } };
    }[]
  ).find((p) => p.title === 'Device status')!;
  const mapped = Object.fromEntries(
    Object.entries(status.fieldConfig.defaults.mappings[0]!.options).map(([code, o]) => [o.text, Number(code)]),
  );
  assert.deepEqual(mapped, { ...DEVICE_STATUS_CODE });
  // Panel ids are unique (Grafana keys panel state by them).
  const ids = (dash.panels as { id: number }[]).map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length);
});

test('the check fails on a query that drifted from the schema (a renamed field, an unknown tag, a tag value that never occurs, a regex filter)', () => {
  const q = (filter: string, tail = ''): string =>
    `from(bucket: v.defaultBucket)\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n  |> filter(fn: (r) => ${filter})${tail}`;
  assert.deepEqual(
    checkFluxAgainstSchema(
      q('r._measurement == "meter_reading" and r._field == "power_w"', '\n  |> group(columns: ["meter"])'),
    ),
    [],
  );
  assert.match(
    checkFluxAgainstSchema(q('r._measurement == "meter_reading" and r._field == "power"')).join('\n'),
    /field power is not a field of meter_reading/,
  );
  assert.match(
    checkFluxAgainstSchema(q('r._measurement == "meter_readings" and r._field == "power_w"')).join('\n'),
    /measurement meter_readings is not in the schema/,
  );
  assert.match(
    checkFluxAgainstSchema(q('r._measurement == "meter_reading" and r._field == "power_w" and r.device == "x"')).join(
      '\n',
    ),
    /tag device is not a tag of meter_reading/,
  );
  assert.match(
    checkFluxAgainstSchema(
      q('r._measurement == "meter_reading" and r["_field"] == "power_w" and r.quality == "ok"'),
    ).join('\n'),
    /tag quality never has the value "ok"/,
  );
  assert.match(
    checkFluxAgainstSchema(q('r._measurement == "device_health" and r._field =~ /status/')).join('\n'),
    /_field is named other than/,
  );
  assert.match(
    checkFluxAgainstSchema(
      q('r._measurement == "device_health" and r._field == "online"', '\n  |> group(columns: ["meter"])'),
    ).join('\n'),
    /column "meter" .* is neither/,
  );
  assert.match(
    checkFluxAgainstSchema('from(bucket: "mgx") |> filter(fn: (r) => r._measurement == "device_health")').join('\n'),
    /v\.defaultBucket[\s\S]*time range/,
  );
  // Every field the dashboard's writers can write is in the schema table the check reads (they share the module).
  assert.ok(Object.keys(INFLUX_SCHEMA.interval_result.fields).includes('local_share'));
});

const DAY = Date.parse('2026-06-21T00:00:00Z');
const H = 3_600_000;

interface Series {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

test(
  'the names the dashboard queries are the names the running engine writes to InfluxDB (victoria-metrics)',
  { timeout: 240_000 },
  async () => {
    const dir = tempDir();
    const vmPort = await freePort();
    // 100 y: the simulated day is in the past of the wall clock, beyond the default month of retention.
    const vm = await startProcess(
      '/usr/bin/victoria-metrics',
      [
        `-httpListenAddr=127.0.0.1:${vmPort}`,
        `-storageDataPath=${join(dir, 'vm')}`,
        '-loggerLevel=ERROR',
        '-retentionPeriod=100y',
      ],
      null,
    );
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${vmPort}/health`).catch(() => null))?.ok === true,
      15_000,
      'victoria-metrics /health',
    );
    const clock = new ManualClock(DAY + 8 * H - 4 * 60_000);
    const demo = demoConfig(3);
    const config = validateConfig({
      ...structuredClone(demo),
      clock: { speed: 1 },
      bridge: { ...demo.bridge, recordEveryMs: 60_000 },
      influx: { url: `http://127.0.0.1:${vmPort}`, org: 'mgx', bucket: 'mgx', flushIntervalMs: 200 },
    });
    const mg = await startMicrogrid({
      config,
      configSource: 'test',
      dataDir: join(dir, 'data'),
      log: pino({ level: 'silent' }),
      port: 0,
      clock,
    });
    // The meters' first interval (07:56–08:00's) is partial and does not trade; 08:00–08:15 is their first full one.
    const first = DAY + 8 * H;
    let series: Series[] = [];
    let st: ReturnType<typeof listIntervalStatements>;
    let deviceIds: string[];
    let price: string | null | undefined;
    try {
      // Market time runs by the minute, every device polled each minute, until 08:00–08:15 is settled.
      for (let t = clock.now() + 60_000; t <= DAY + 8 * H + 30 * 60_000; t += 60_000) {
        await clock.advanceTo(t);
        await pollAll(mg.bridge);
        const s = getInterval(mg.ledger, first)?.state;
        if (
          s &&
          s !== 'open' &&
          s !== 'closed' &&
          s !== 'cleared' &&
          s !== 'delivered' &&
          s !== 'metered' &&
          t >= first + 16 * 60_000
        )
          break;
      }
      assert.ok(
        ['settled', 'committed', 'final'].includes(getInterval(mg.ledger, first)?.state ?? ''),
        `08:00 settled (${getInterval(mg.ledger, first)?.state})`,
      );
      const exportAll = async (): Promise<Series[]> => {
        await fetch(`http://127.0.0.1:${vmPort}/internal/force_flush`);
        const res = await fetch(
          `http://127.0.0.1:${vmPort}/api/v1/export?match[]=${encodeURIComponent(`{__name__=~"(${Object.keys(INFLUX_SCHEMA).join('|')})_.*"}`)}`,
        );
        return (await res.text())
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Series);
      };
      await waitUntil(
        async () => (
          (series = await exportAll()),
          series.some((s) => s.metric.__name__ === 'interval_result_local_wh' && s.timestamps.includes(first))
        ),
        30_000,
        "08:00's interval_result in victoria-metrics",
      );
      st = listIntervalStatements(mg.ledger, first);
      deviceIds = mg.bridge.health().map((h) => h.deviceId);
      price = getClearing(mg.ledger, first, 'metered')?.clearingPrice;
    } finally {
      await mg.stop();
      await vm.stop();
    }

    // Every (measurement, field) a query reads has arrived; every tag it filters or groups on is a label of that
    // series, with the compared value.
    const missing: string[] = [];
    for (const q of dashboardQueries(readJson(DASHBOARD))) {
      const n = fluxNames(q.query);
      for (const m of n.measurements) {
        for (const f of n.fields) {
          const got = series.filter((s) => s.metric.__name__ === `${m}_${f}`);
          if (got.length === 0) {
            missing.push(`${q.panel}/${q.refId}: no series ${m}_${f}`);
            continue;
          }
          for (const t of n.tagFilters)
            if (!got.some((s) => s.metric[t.tag] === t.value))
              missing.push(`${q.panel}/${q.refId}: no ${m}_${f} with ${t.tag}="${t.value}"`);
          for (const c of n.columnLists.filter((c) => !c.startsWith('_')))
            if (!got.some((s) => c in s.metric)) missing.push(`${q.panel}/${q.refId}: ${m}_${f} has no label ${c}`);
        }
      }
    }
    assert.deepEqual(
      missing,
      [],
      `series that arrived: ${[...new Set(series.map((s) => s.metric.__name__))].sort().join(', ')}`,
    );

    // The interval result carries the statements' figures, at the interval's start.
    const at = (name: string): number | undefined => {
      const s = series.find((x) => x.metric.__name__ === name);
      const i = s?.timestamps.indexOf(first) ?? -1;
      return i >= 0 ? s!.values[i] : undefined;
    };
    const bought = st.reduce((s, r) => s + r.boughtWh, 0);
    const imported = st.reduce((s, r) => s + r.gridImportWh, 0);
    assert.equal(at('interval_result_local_wh'), bought);
    assert.equal(at('interval_result_grid_import_wh'), imported);
    assert.equal(
      at('interval_result_grid_export_wh'),
      st.reduce((s, r) => s + r.gridExportWh, 0),
    );
    assert.ok(price, 'the demo traded at 08:00 (PV surplus of two households, one without panels)');
    assert.equal(at('interval_result_clearing_price'), Number(price));
    if (bought + imported > 0)
      assert.ok(Math.abs(at('interval_result_local_share')! - bought / (bought + imported)) < 1e-9);
    // Device health: every device, with its status as a label and its code as the value.
    const health = series.filter((s) => s.metric.__name__ === 'device_health_status_code');
    assert.deepEqual([...new Set(health.map((s) => s.metric.device))].sort(), deviceIds.sort());
    for (const s of health)
      assert.equal(s.values.at(-1), { offline: 0, stale: 1, asleep: 2, online: 3 }[s.metric.status!]);
  },
);
