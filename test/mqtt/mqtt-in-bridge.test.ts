import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { ScaledClock } from '../../core/clock.js';
import { validateConfig } from '../../core/config/validate.js';
import { loadGatewayKey } from '../../meter-bridge/readings/gateway-key.js';
import { recoverReadingSigner } from '../../core/reading-typed-data.js';
import { startSimulatedHousehold } from '../../meter-bridge/simulators/household.js';
import { startMicrogrid } from '../../app/start.js';
import type { ReadingRow } from '../../ledger/readings.js';
import { runMgxAsync, spawnMgx } from '../helpers/mgx-process.js';
import { startBroker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { waitUntil } from '../meter-bridge/helpers.js';

const DAY = Date.parse('2026-06-21T00:00:00Z');
// 30 s of wall time per simulated day; the bridge polls every 200 ms (9.6 market minutes) and signs every poll.
const SPEED = 2880;
const METERS = ['p1-grid', 'p1-pv'];

/** What a bridge process signed, from its debug log (`signed readings for mqtt`): "meter|epoch ms". */
function signedIn(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"signed readings for mqtt"')) continue;
    for (const [m, ts] of (JSON.parse(line) as { signed: [string, string][] }).signed)
      out.push(`${m}|${Date.parse(ts)}`);
  }
  return out;
}

test(
  'mgx bridge --mqtt in a second process feeds the engine; the broker killed twice and the bridge restarted during a simulated day: every signed reading is in the ledger exactly once',
  { timeout: 180_000 },
  async () => {
    const dir = tempDir('mgx-mqtt-bridge-');
    const broker = await startBroker();
    const gwDir = join(dir, 'gateway');
    // The key exists before the bridge starts, so the engine's config can register the gateway (as an operator would,
    // from `mgx bridge`'s first line).
    const gateway = loadGatewayKey(gwDir).address;
    const sim = await startSimulatedHousehold({ clock: new ScaledClock(SPEED, DAY), index: 0, host: '127.0.0.1' });
    const config = validateConfig({
      microgrid: { id: 'lane-7' },
      mqtt: { url: broker.url },
      participants: [
        {
          id: 'p1',
          name: 'P1',
          meters: [
            { id: 'p1-grid', role: 'grid', gateway },
            { id: 'p1-pv', role: 'pv', gateway },
          ],
        },
      ],
    });
    const mg = await startMicrogrid({
      config,
      configSource: 'test',
      dataDir: join(dir, 'engine'),
      log: pino(
        { level: process.env.MGX_TEST_ENGINE_LOG ? 'warn' : 'silent' },
        pino.destination(process.env.MGX_TEST_ENGINE_LOG ?? '/dev/null'),
      ),
      port: 0,
    });
    const bridgeYaml = (startAt: number): string =>
      [
        'microgrid: { id: lane-7 }',
        `mqtt: { url: "${broker.url}" }`,
        `clock: { speed: ${SPEED}, startAt: "${new Date(startAt).toISOString().slice(0, 19)}Z" }`,
        'bridge:',
        '  pollIntervalMs: 200',
        '  recordEveryMs: 60000',
        '  devices:',
        `    - { id: house, kind: sunspec, transport: { type: tcp, host: 127.0.0.1, port: ${sim.port} } }`,
        'participants:',
        '  - id: p1',
        '    name: P1',
        '    meters:',
        '      - { id: p1-grid, role: grid, device: house }',
        '      - { id: p1-pv, role: pv, device: house }',
        '',
      ].join('\n');
    const cfg = join(dir, 'gateway.yaml');
    writeFileSync(cfg, bridgeYaml(DAY));
    const spawnBridge = () =>
      spawnMgx(['bridge', '--config', cfg, '--data-dir', gwDir], { env: { MGX_LOG_LEVEL: 'debug' } });
    const runs: ReturnType<typeof spawnBridge>[] = [];
    const ledgerRows = () => mg.ledger.db.prepare('SELECT * FROM readings ORDER BY meter_id, ts').all() as ReadingRow[];
    const ledgerSet = () => new Set(ledgerRows().map((r) => `${r.meter_id}|${r.ts}`));
    const signed = () => runs.flatMap((r) => signedIn(r.output()));
    const missing = (of: string[]) => {
      const have = ledgerSet();
      return of.filter((k) => !have.has(k));
    };
    /**
     * Everything signed up to now is in the ledger (the bridge keeps signing meanwhile: what it signs later is not
     * waited for).
     */
    const storedSoFar = () => {
      const snapshot = signed();
      return () => missing(snapshot).length === 0;
    };
    /** On a failure, what was missing and what the bridge said. */
    const explain = async (p: Promise<void>): Promise<void> =>
      p.catch((err: Error) => {
        const m = missing(signed());
        const lines = runs.map((r) =>
          r
            .output()
            .split('\n')
            .filter((l) => !l.includes('"signed readings for mqtt"') && !l.includes('"level":20'))
            .slice(-30)
            .join('\n'),
        );
        throw new Error(
          `${err.message}: ${m.length} of ${signed().length} signed missing (${m.slice(0, 5).join(', ')} …); ledger ${ledgerRows().length}\n${lines.join('\n---\n')}\nbroker:\n${broker.output().slice(-2000)}`,
        );
      });
    try {
      runs.push(spawnBridge());
      assert.equal((await runs[0]!.waitFor(/gateway (0x[0-9a-fA-F]{40})/))[1], gateway);
      await waitUntil(() => ledgerRows().length >= 10, 30_000, 'readings from the bridge in the engine ledger');
      // They came the POST /api/readings way: signed by the registered gateway, stored with the signature.
      const first = ledgerRows()[0]!;
      assert.equal(first.gateway?.toLowerCase(), gateway.toLowerCase());
      const asEvent = {
        type: 'reading' as const,
        meterId: first.meter_id,
        ts: new Date(first.ts).toISOString(),
        powerW: first.power_w,
        importWh: first.import_wh,
        exportWh: first.export_wh,
        voltageV: first.voltage_v,
        frequencyHz: first.frequency_hz,
        quality: first.quality,
        signature: first.signature!,
      };
      assert.equal((await recoverReadingSigner(asEvent)).toLowerCase(), gateway.toLowerCase());

      // Outage 1, mid-morning: the broker dies (SIGKILL); the bridge spools; the broker comes back.
      await waitUntil(() => signed().length >= 60, 30_000, 'a few hours signed');
      await broker.kill();
      const atKill = signed().length;
      await waitUntil(() => signed().length >= atKill + 30, 30_000, 'readings signed while the broker is down');
      await broker.restart();
      await explain(waitUntil(storedSoFar(), 30_000, 'everything signed so far in the ledger after the first outage'));

      // Outage 2, afternoon: the broker dies, the bridge is stopped with readings in its spool, the broker and then the
      // bridge come back.
      await waitUntil(() => signed().length >= 180, 30_000, 'the afternoon signed');
      await broker.kill();
      const atKill2 = signed().length;
      await waitUntil(() => signed().length >= atKill2 + 20, 30_000, 'readings signed while the broker is down again');
      runs[0]!.child.kill('SIGTERM');
      assert.equal((await runs[0]!.exited).code, 0);
      const beforeRestart = signed();
      assert.ok(
        !beforeRestart.every((k) => ledgerSet().has(k)),
        'some readings wait in the spool of the stopped bridge',
      );
      await broker.restart();
      // The second run's market clock continues where the first stopped (a gateway's wall clock would).
      const last = Math.max(...beforeRestart.map((k) => Number(k.split('|')[1])));
      writeFileSync(cfg, bridgeYaml(last + 60_000));
      runs.push(spawnBridge());
      await runs[1]!.waitFor(/gateway 0x/);
      await waitUntil(
        () => signed().some((k) => Number(k.split('|')[1]) >= DAY + 86_400_000),
        60_000,
        'the end of the day signed',
      );
      runs[1]!.child.kill('SIGTERM');
      assert.equal((await runs[1]!.exited).code, 0);
      await explain(waitUntil(storedSoFar(), 30_000, 'everything signed in the ledger'));

      const all = signed();
      assert.equal(new Set(all).size, all.length, 'the bridge signed each (meter, ts) once');
      const rows = ledgerRows();
      assert.deepEqual([...ledgerSet()].sort(), [...all].sort(), 'the ledger holds exactly what the bridge signed');
      assert.deepEqual([...new Set(rows.map((r) => r.meter_id))].sort(), METERS);
      // Each reading was new to the ledger once: announced once (a doubled one would count twice here).
      const metrics = await mg.metrics.render();
      assert.match(metrics, new RegExp(`^mgx_readings_total ${rows.length}$`, 'm'));
      assert.match(metrics, new RegExp(`^mgx_mqtt_readings_accepted_total ${rows.length}$`, 'm'));
      assert.doesNotMatch(metrics, /^mgx_mqtt_messages_rejected_total\{/m);
      const out = runs.map((r) => r.output()).join('\n');
      assert.match(out, /spooling readings|not acknowledged/, 'the bridge spooled during the outages');
      const dupes = /^mgx_mqtt_readings_duplicate_total (\d+)$/m.exec(metrics)?.[1] ?? '0';
      console.log(
        `${rows.length} readings over a simulated day, 2 broker kills and a bridge restart; ${dupes} resent duplicates ignored`,
      );
    } finally {
      for (const r of runs) {
        if (r.child.exitCode !== null || r.child.signalCode !== null) continue;
        r.child.kill('SIGTERM');
        await r.exited;
      }
      await mg.stop();
      await sim.close();
      await broker.stop();
    }
  },
);

test('mgx bridge: --engine and --mqtt together, or --mqtt with a non-MQTT URL, is a usage error naming the flag', async () => {
  const dir = tempDir('mgx-mqtt-usage-');
  const cfg = join(dir, 'gateway.yaml');
  writeFileSync(
    cfg,
    'bridge:\n  devices:\n    - { id: house, kind: sunspec, transport: { type: tcp, host: 127.0.0.1, port: 1502 } }\n',
  );
  const both = await runMgxAsync([
    'bridge',
    '--config',
    cfg,
    '--data-dir',
    dir,
    '--engine',
    'http://127.0.0.1:1',
    '--mqtt',
    'mqtt://127.0.0.1:1',
  ]);
  assert.equal(both.status, 2, both.stderr);
  assert.match(both.stderr, /--mqtt: .*either --engine URL or --mqtt URL \[USAGE\]/);
  const wrong = await runMgxAsync(['bridge', '--config', cfg, '--data-dir', dir, '--mqtt', 'http://127.0.0.1:1883']);
  assert.equal(wrong.status, 2, wrong.stderr);
  assert.match(wrong.stderr, /--mqtt: .*"http:\/\/127\.0\.0\.1:1883".*an MQTT URL/);
});
