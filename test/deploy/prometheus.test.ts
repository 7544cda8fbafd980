import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { METRICS, metricNameProblems, type MetricDef, type MetricType } from '../../core/metric-names.js';
import { EventBus } from '../../core/events.js';
import { watchChainHealth } from '../../app/chain-health.js';
import { startAnvil } from '../../settlement/chain/anvil.js';
import { rpcRelay } from '../settlement/proxy.js';
import { ROOT, spawnMgx } from '../helpers/mgx-process.js';
import pino from 'pino';
import { ManualClock } from '../../core/clock.js';
import { demoConfig } from '../../core/config/demo.js';
import { validateConfig } from '../../core/config/validate.js';
import { saveMeterIntervalEnergies } from '../../ledger/meter-data.js';
import { decideHold } from '../../settlement/holds.js';
import { startMicrogrid } from '../../app/start.js';
import { pollAll } from '../e2e/poll.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * deploy/prometheus/ against Debian's promtool (package `prometheus`) and a
 * real scrape of a running `mgx start`: the config and the rules load, every
 * alert's unit tests pass, the scrape follows the naming conventions
 * (core/metric-names.ts, and promtool's own linter), and every metric an
 * alert uses is served.
 */

const PROMTOOL = '/usr/bin/promtool';
const DIR = join(ROOT, 'deploy/prometheus');

function promtool(args: string[], input?: string): { status: number | null; out: string } {
  assert.ok(existsSync(PROMTOOL), `${PROMTOOL} is missing: apt-get install -y --no-install-recommends prometheus`);
  const r = spawnSync(PROMTOOL, args, { cwd: DIR, encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('promtool accepts the scrape config and the rules, and every alert passes its unit tests', () => {
  let r = promtool(['check', 'config', 'prometheus.yml']);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS: 1 rule files found/);
  r = promtool(['check', 'rules', 'alerts.yml']);
  assert.equal(r.status, 0, r.out);
  r = promtool(['test', 'rules', 'alerts.test.yml']);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS/);
});

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (): Rule[] =>
  (parse(readFileSync(join(DIR, 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
    (g) => g.rules,
  );

test('every alert has a for:, a severity and a summary and description; each one the brief names is there and has a unit test', () => {
  const rs = rules();
  for (const r of rs) {
    assert.match(r.for ?? '', /^\d+[smh]$/, `${r.alert}: for`);
    assert.ok(['warning', 'critical'].includes(r.labels?.severity ?? ''), `${r.alert}: severity`);
    assert.ok(r.annotations?.summary && r.annotations.description, `${r.alert}: annotations`);
  }
  const names = rs.map((r) => r.alert);
  for (const a of ['MgxDeviceOffline', 'MgxSettlementBacklog', 'MgxChainUnavailable', 'MgxMeterDataHeld'])
    assert.ok(names.includes(a), a);
  const tested = readFileSync(join(DIR, 'alerts.test.yml'), 'utf8');
  for (const a of names)
    assert.match(
      tested,
      new RegExp(`alertname: ${a}\\b[^\\n]*\\n\\s+exp_alerts:\\n\\s+- exp_labels`),
      `${a} has a test where it fires`,
    );
});

/** A scrape as families: name → type, help, and the samples' label sets. */
function families(text: string): Map<string, { type?: string; help?: string; samples: Record<string, string>[] }> {
  const fams = new Map<string, { type?: string; help?: string; samples: Record<string, string>[] }>();
  const fam = (n: string) => fams.get(n) ?? (fams.set(n, { samples: [] }), fams.get(n)!);
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^# HELP (\S+) (.+)$/.exec(line))) fam(m[1]!).help = m[2]!;
    else if ((m = /^# TYPE (\S+) (\S+)$/.exec(line))) fam(m[1]!).type = m[2]!;
    else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? \S+$/.exec(line))) {
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
      // A summary's samples belong to its family (name_sum, name_count).
      const base = m[1]!.replace(/_(sum|count)$/, '');
      fam(fams.get(base)?.type === 'summary' ? base : m[1]!).samples.push(labels);
    } else assert.equal(line, '', `a line of the scrape that is neither a comment nor a sample: ${line}`);
  }
  return fams;
}

test(
  'a running engine’s /metrics follows the naming rules and serves every metric of the table and of the alerts',
  { timeout: 180_000 },
  async () => {
    const p = spawnMgx(['start', '--port', '0', '--data-dir', join(tempDir(), 'data'), '--speed', '900']);
    let text: string;
    try {
      const url = (await p.waitFor(/running at (http:\/\/127\.0\.0\.1:\d+)/, 90_000))[1]!;
      // An interval through to final: the counters and the step summary have values by then.
      await p.waitFor(/interval \S+ final/, 120_000);
      // The first interval after a start can go final before the first reading on a loaded machine: scrape until
      // readings counted too.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const res = await fetch(`${url}/metrics`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
        text = await res.text();
        if (/^mgx_readings_total [1-9]\d*$/m.test(text) || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }

    // Prometheus's own linter (counters end _total, HELP present, snake_case, units).
    const lint = promtool(['check', 'metrics'], text);
    assert.equal(lint.status, 0, `promtool check metrics:\n${lint.out}\n${text}`);

    const fams = families(text);
    const table = new Map<string, MetricDef>(Object.values(METRICS).map((m) => [m.name, m]));
    for (const [name, f] of fams) {
      assert.ok(f.help && f.type, `${name} has HELP and TYPE`);
      assert.deepEqual(metricNameProblems(name, f.type as MetricType), []);
      const def = table.get(name);
      assert.ok(def, `${name} is served but not in core/metric-names.ts`);
      assert.equal(f.type, def.type, name);
      for (const s of f.samples)
        assert.deepEqual(
          Object.keys(s)
            .filter((k) => k !== 'quantile')
            .sort(),
          [...def.labels].sort(),
          `${name} labels`,
        );
    }
    for (const name of table.keys()) assert.ok(fams.has(name), `${name} is announced from the first scrape`);
    // Gauges the alerts read have their values, with every label value an alert selects.
    const devices = fams.get(METRICS.devices.name)!.samples.map((s) => s.status);
    assert.deepEqual(devices.sort(), ['asleep', 'offline', 'online', 'stale']);
    assert.match(text, /^mgx_chain_up 1$/m);
    assert.match(text, /^mgx_meter_data_held \d+$/m);
    assert.match(text, /^mgx_readings_total [1-9]\d*$/m);
    assert.match(text, /^mgx_interval_step_lag_seconds_count\{step="final"\} [1-9]/m);

    for (const r of rules()) {
      for (const m of r.expr.matchAll(/\b(mgx_[a-z0-9_]+)\b(?:\{([^}]*)\})?/g)) {
        const f = fams.get(m[1]!);
        assert.ok(f, `${r.alert}: ${m[1]} is not served`);
        for (const sel of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g))
          assert.ok(
            f.samples.some((s) => s[sel[1]!] === sel[2]),
            `${r.alert}: no ${m[1]}{${sel[1]}="${sel[2]}"} in the scrape`,
          );
      }
    }
  },
);

test('the naming check refuses what the conventions forbid', () => {
  assert.deepEqual(metricNameProblems('mgx_readings_total', 'counter'), []);
  assert.match(metricNameProblems('mgx_readings', 'counter').join(), /must end in _total/);
  assert.match(metricNameProblems('mgx_devices_total', 'gauge').join(), /only counters end in _total/);
  assert.match(metricNameProblems('mgx_step_lag_ms', 'summary').join(), /ms is not a base unit/);
  assert.match(metricNameProblems('mgx_exported_wh_total', 'counter').join(), /wh is not a base unit/);
  assert.match(metricNameProblems('readings_total', 'counter').join(), /not mgx_/);
  assert.deepEqual(metricNameProblems('mgx_exported_energy_joules_total', 'counter'), []);
});

test(
  'mgx_chain_up follows the chain: down when its RPC port closes, up when it opens, and when the submitter says so',
  { timeout: 60_000 },
  async () => {
    const anvil = await startAnvil();
    const relay = await rpcRelay(anvil.port);
    const bus = new EventBus();
    const h = watchChainHealth({ rpcUrl: relay.url, bus, everyMs: 100, timeoutMs: 1000 });
    const until = async (want: boolean, what: string): Promise<void> => {
      const deadline = Date.now() + 20_000;
      while (h.up !== want) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    try {
      assert.equal(h.up, true);
      await relay.down();
      await until(false, 'the probe to see the chain down');
      await relay.up();
      await until(true, 'the probe to see it back');
      h.stop(); // events only from here
      bus.emit({ type: 'settlement-state', interval: '', state: 'chain-unavailable', txHash: null });
      assert.equal(h.up, true, 'stopped: no longer listening');
    } finally {
      h.stop();
      await relay.close();
      await anvil.stop();
    }
    const bus2 = new EventBus();
    const h2 = watchChainHealth({ rpcUrl: 'http://127.0.0.1:1', bus: bus2, everyMs: 3_600_000 });
    bus2.emit({ type: 'settlement-state', interval: '', state: 'chain-unavailable', txHash: null, detail: 'x' });
    assert.equal(h2.up, false);
    bus2.emit({ type: 'settlement-state', interval: '', state: 'chain-available', txHash: null });
    assert.equal(h2.up, true);
    h2.stop();
  },
);

test(
  'the gauges the alerts read move in a running engine: a device unplugged goes offline, held meter data counts until decided',
  { timeout: 120_000 },
  async () => {
    const DAY = Date.parse('2026-06-21T00:00:00Z');
    const clock = new ManualClock(DAY + 8 * 3_600_000);
    const demo = demoConfig(2);
    const config = validateConfig({ ...structuredClone(demo), clock: { speed: 1 } });
    const mg = await startMicrogrid({
      config,
      configSource: 'test',
      dataDir: join(tempDir(), 'data'),
      log: pino({ level: 'silent' }),
      port: 0,
      clock,
    });
    const scrape = async (): Promise<string> => (await fetch(`${mg.url}/metrics`)).text();
    const gauge = (text: string, series: string): number =>
      Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    try {
      await pollAll(mg.bridge);
      let text = await scrape();
      assert.equal(gauge(text, 'mgx_devices{status="offline"}'), 0);
      assert.equal(gauge(text, 'mgx_meter_data_held'), 0);

      // Household 2's device loses power: polls fail until the bridge calls it offline.
      await mg.demo!.households[1]!.close();
      const deadline = Date.now() + 60_000;
      for (let t = clock.now(); gauge((text = await scrape()), 'mgx_devices{status="offline"}') !== 1;) {
        assert.ok(Date.now() < deadline, `sim-h02 never went offline: ${JSON.stringify(mg.bridge.health())}`);
        await clock.advanceTo((t += 60_000));
        await pollAll(mg.bridge, { except: ['sim-h02'], patienceMs: 5000 });
      }
      assert.equal(gauge(text, 'mgx_devices{status="online"}') + gauge(text, 'mgx_devices{status="asleep"}'), 1);

      // Meter data held by validation counts until the operator decides.
      const start = DAY + 7 * 3_600_000;
      saveMeterIntervalEnergies(
        mg.ledger,
        [
          {
            intervalStart: start,
            meterId: 'h01-grid',
            importWh: 0,
            exportWh: 90_000,
            status: 'held',
            reasons: [{ code: 'VEE_ABOVE_RATED_POWER', message: 'test' }] as never,
            method: null,
            firstReadingTs: start,
            lastReadingTs: start + 900_000,
          },
        ],
        clock.now(),
      );
      assert.equal(gauge(await scrape(), 'mgx_meter_data_held'), 1);
      decideHold(
        mg.ledger,
        { intervalMs: 900_000 },
        {
          intervalStart: start,
          meterId: 'h01-grid',
          decision: 'reject',
          by: 'operator',
          reason: 'test: the meter was replaced',
        },
        clock.now(),
      );
      assert.equal(gauge(await scrape(), 'mgx_meter_data_held'), 0);
    } finally {
      await mg.stop();
    }
  },
);
