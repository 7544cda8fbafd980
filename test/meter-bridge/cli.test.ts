import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnMgx } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';

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
    assert.deepEqual(report.models.map((x) => x.id), [1, 103, 203]);
    assert.deepEqual(report.readings.map((x) => x.meterId), ['meter', 'inverter']);

    const dir = tempDir('mgx-cli-');
    const cfg = join(dir, 'microgrid.yaml');
    writeFileSync(
      cfg,
      `bridge:\n  devices:\n    - { id: house-2, kind: sunspec, transport: { type: tcp, host: 127.0.0.1, port: ${port} } }\nparticipants:\n  - id: p2\n    name: P2\n    meters:\n      - { id: p2-grid, role: grid, device: house-2 }\n      - { id: p2-pv, role: pv, device: house-2 }\n`,
    );
    const read = await run(['read', '--config', cfg, '--device', 'house-2']);
    assert.equal(read.code, 0, read.out);
    const rs = JSON.parse(read.out) as { meterId: string; quality: string; importWh: number }[];
    assert.deepEqual(rs.map((r) => [r.meterId, r.quality]), [['p2-grid', 'good'], ['p2-pv', 'good']]);
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
