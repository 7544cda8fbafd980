import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BusPool } from '../../meter-bridge/transport/bus-pool.js';
import { SunSpecReader } from '../../meter-bridge/sunspec/device.js';
import { freePort } from '../../meter-bridge/simulators/free-port.js';
import { tempDir } from '../helpers/tmp.js';
import { PEER, startProcess, waitForFile } from './helpers.js';

/**
 * The bridge against an independent Modbus implementation: pymodbus serving a
 * SunSpec map it builds itself (in Python, from the same official JSON), over
 * TCP and over RTU through a socat pseudo-terminal pair.
 */

const expected = (u: number) => [
  {
    meterId: `grid-${u}`,
    powerW: -2500 * u,
    importWh: (7000 + u) * 10,
    exportWh: (9000 + u) * 10,
    voltageV: 231,
    frequencyHz: 49.98,
    counterWrapWh: 2 ** 32 * 10,
  },
  {
    meterId: `pv-${u}`,
    powerW: -1000 * u,
    importWh: null,
    exportWh: 100000 * u,
    voltageV: 230 + u / 10,
    frequencyHz: 50,
    counterWrapWh: 2 ** 32,
  },
];

test('pymodbus over TCP: discovery walks a length-65 model 1 and decodes 103 + 203 in two requests', async () => {
  const port = await freePort();
  await startProcess('/usr/bin/python3', [PEER, '--tcp', String(port), '--units', '1,2'], /READY/);
  const pool = new BusPool({ timeoutMs: 1000 });
  try {
    const bus = pool.get({ type: 'tcp', host: '127.0.0.1', port });
    // pymodbus prints READY just before it binds; the bus reconnects with backoff until it listens.
    let report;
    for (let i = 0; ; i++) {
      try {
        const r = new SunSpecReader({ deviceId: 'u1', bus, unitId: 1, meters: { grid: 'grid-1', pv: 'pv-1' } });
        report = await r.discover();
        assert.deepEqual(await r.read(), expected(1));
        assert.equal(r.requestsPerRead, 2);
        break;
      } catch (err) {
        if (i > 40) throw err;
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    assert.equal(report.base, 40000);
    assert.deepEqual(
      report.models.map((m) => [m.id, m.address, m.length]),
      [
        [1, 40002, 65],
        [103, 40069, 50],
        [203, 40121, 105],
      ],
    );
    assert.deepEqual(report.common, { manufacturer: 'PyPeer', model: 'Unit1', version: '3.0', serial: 'SN-1' });
    // Unit 2 on the same TCP connection: the pool shares the bus.
    const r2 = new SunSpecReader({
      deviceId: 'u2',
      bus: pool.get({ type: 'tcp', host: '127.0.0.1', port }),
      unitId: 2,
      meters: { grid: 'grid-2', pv: 'pv-2' },
    });
    assert.deepEqual(await r2.read(), expected(2));
    assert.equal(pool.size, 1);
  } finally {
    await pool.close();
  }
});

test('pymodbus over RTU (socat pty pair): two unit ids on one bus, read concurrently', async () => {
  const dir = tempDir('mgx-rtu-');
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  await startProcess(
    '/usr/bin/socat',
    ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`],
    /starting data transfer loop/,
  );
  await waitForFile(a);
  await waitForFile(b);
  await startProcess('/usr/bin/python3', [PEER, '--rtu', b, '--units', '1,2'], /READY/);
  const pool = new BusPool({ timeoutMs: 1000, retries: 2 });
  try {
    const spec = { type: 'rtu' as const, path: a, baudRate: 9600, parity: 'none' as const };
    const bus = pool.get(spec);
    assert.equal(pool.get(spec), bus, 'one queue per physical port');
    const r1 = new SunSpecReader({ deviceId: 'u1', bus, unitId: 1, meters: { grid: 'grid-1', pv: 'pv-1' } });
    const r2 = new SunSpecReader({ deviceId: 'u2', bus, unitId: 2, meters: { grid: 'grid-2', pv: 'pv-2' } });
    // Wait for pymodbus to open its end.
    for (let i = 0; ; i++) {
      try {
        await r1.discover();
        break;
      } catch (err) {
        if (i > 20) throw err;
        await new Promise((res) => setTimeout(res, 200));
      }
    }
    const timeoutsBefore = bus.stats.timeouts;
    const t0 = Date.now();
    const [x1, x2, y1, y2] = await Promise.all([r1.read(), r2.read(), r1.read(), r2.read()]);
    const elapsed = Date.now() - t0;
    assert.deepEqual(x1, expected(1));
    assert.deepEqual(x2, expected(2));
    assert.deepEqual(y1, expected(1));
    assert.deepEqual(y2, expected(2));
    // One request in flight at a time, 25 ms gap between them: 8 requests take at least 7 gaps.
    assert.ok(elapsed >= 7 * 25, `8 RTU requests took ${elapsed} ms, expected ≥ 175 ms (gap respected)`);
    assert.equal(bus.stats.timeouts, timeoutsBefore, 'no timeouts once the peer is up');
  } finally {
    await pool.close();
  }
});
