import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnMgx } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';
import { ManualClock } from '../../core/clock.js';
import { validateConfig } from '../../core/config/validate.js';
import { buildDashboard } from '../../dashboard/app.js';
import { openLedger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { listReadingsBefore, setMeterGateway } from '../../ledger/readings.js';
import { waitUntil } from './helpers.js';

/** The bridge commands as a user runs them: `mgx simulate`, then `mgx scan` and `mgx read` against it. */

async function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const p = spawnMgx(args);
  const { code } = await p.exited;
  return { code, out: p.output() };
}

test('mgx simulate, mgx scan and mgx read', async () => {
  const sim = spawnMgx(['simulate', '--households', '2']);
  try {
    const m = await sim.waitFor(/household 2: 127\.0\.0\.1:(\d+) unit 1/);
    const port = Number(m[1]);
    const scan = await run(['scan', '--host', '127.0.0.1', '--port', String(port)]);
    assert.equal(scan.code, 0, scan.out);
    assert.match(scan.out, /SunSpec device at tcp:\/\/127\.0\.0\.1:\d+ unit 1, base 40000/);
    assert.match(scan.out, /microgrid-exchange SimHousehold {2}serial SIM-1/);
    assert.match(scan.out, /^\s+103\s+40070\s+50\s+inverter_three_phase$/m);
    assert.match(scan.out, /^\s+203\s+40122\s+105\s+ac_meter_abcn$/m);
    assert.match(scan.out, /meter: power -?\d+ W, import \d+ Wh, export \d+ Wh/);
    assert.match(scan.out, /2 request\(s\) per reading/);

    const json = await run(['scan', '--host', '127.0.0.1', '--port', String(port), '--format', 'json']);
    const report = JSON.parse(json.out) as { models: { id: number }[]; readings: { meterId: string }[] };
    assert.deepEqual(
      report.models.map((x) => x.id),
      [1, 103, 203],
    );
    assert.deepEqual(
      report.readings.map((x) => x.meterId),
      ['meter', 'inverter'],
    );

    const dir = tempDir('mgx-cli-');
    const cfg = join(dir, 'microgrid.yaml');
    writeFileSync(
      cfg,
      `bridge:\n  devices:\n    - { id: house-2, kind: sunspec, transport: { type: tcp, host: 127.0.0.1, port: ${port} } }\nparticipants:\n  - id: p2\n    name: P2\n    meters:\n      - { id: p2-grid, role: grid, device: house-2 }\n      - { id: p2-pv, role: pv, device: house-2 }\n`,
    );
    const read = await run(['read', '--config', cfg, '--device', 'house-2']);
    assert.equal(read.code, 0, read.out);
    const rs = JSON.parse(read.out) as { meterId: string; quality: string; importWh: number }[];
    assert.deepEqual(
      rs.map((r) => [r.meterId, r.quality]),
      [
        ['p2-grid', 'good'],
        ['p2-pv', 'good'],
      ],
    );
    assert.ok(rs[0]!.importWh >= 1_001_000);

    const bad = await run(['read', '--config', cfg, '--device', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.out, /--device: .*got "nope"; expected one of house-2 \[USAGE\]/);
    const refused = await run(['scan', '--host', '127.0.0.1', '--port', '1', '--timeout', '200']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.out, /MODBUS_CONNECT/);
  } finally {
    sim.child.kill('SIGTERM');
    await sim.exited;
  }
});

test("mgx bridge: a separate process pushes signed readings to the engine's POST /api/readings", async () => {
  const dir = tempDir('mgx-bridge-cli-');
  const config = validateConfig({
    participants: [
      {
        id: 'p2',
        name: 'P2',
        meters: [
          { id: 'p2-grid', role: 'grid' },
          { id: 'p2-pv', role: 'pv' },
        ],
      },
    ],
  });
  const ledger = openLedger(join(dir, 'engine.db'));
  for (const p of config.participants) upsertParticipant(ledger, p, 0);
  const engine = buildDashboard({
    ledger,
    config,
    clock: new ManualClock(Date.now()),
    version: 't',
    env: {},
    buildBundle: false,
  });
  await engine.listen({ host: '127.0.0.1', port: 0 });
  const enginePort = (engine.server.address() as { port: number }).port;
  const sim = spawnMgx(['simulate', '--households', '1']);
  let bridge: ReturnType<typeof spawnMgx> | undefined;
  try {
    const port = Number((await sim.waitFor(/household 1: 127\.0\.0\.1:(\d+) unit 1/))[1]);
    const cfg = join(dir, 'gateway.yaml');
    writeFileSync(
      cfg,
      `bridge:\n  recordEveryMs: 1000\n  push: { url: http://127.0.0.1:${enginePort} }\n  devices:\n    - { id: house, kind: sunspec, transport: { type: tcp, host: 127.0.0.1, port: ${port} } }\nparticipants:\n  - id: p2\n    name: P2\n    meters:\n      - { id: p2-grid, role: grid, device: house }\n      - { id: p2-pv, role: pv, device: house }\n`,
    );
    bridge = spawnMgx(['bridge', '--config', cfg, '--data-dir', join(dir, 'gw')]);
    const gateway = (await bridge.waitFor(/gateway (0x[0-9a-fA-F]{40})/))[1]!;
    setMeterGateway(ledger, 'p2-grid', gateway);
    setMeterGateway(ledger, 'p2-pv', gateway);
    await waitUntil(
      () =>
        listReadingsBefore(ledger, 'p2-grid', 0, Date.now() + 60_000).length >= 2 &&
        listReadingsBefore(ledger, 'p2-pv', 0, Date.now() + 60_000).length >= 2,
      20_000,
      'pushed readings in the engine ledger',
    );
    const r = listReadingsBefore(ledger, 'p2-grid', 0, Date.now() + 60_000)[0]!;
    assert.equal(r.gateway, gateway);
    assert.ok(r.importWh! >= 1_000_000);
  } finally {
    bridge?.child.kill('SIGTERM');
    sim.child.kill('SIGTERM');
    await Promise.all([bridge?.exited, sim.exited]);
    await engine.close();
    ledger.close();
  }
});
