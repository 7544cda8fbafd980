import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BusPool } from '../../meter-bridge/transport/bus-pool.js';
import { tempDir } from '../helpers/tmp.js';
import { startProcess, waitForFile } from './helpers.js';

const LATE = fileURLToPath(new URL('./peers/late_rtu.py', import.meta.url));

/**
 * RTU has no transaction id: a reply that comes after its request timed out
 * would be taken for the next request's reply. The bus stays quiet for
 * `drainMs` after a timeout, so the late frame lands on the timed-out
 * transaction and is dropped. The peer numbers its replies (register 0 =
 * which request it answers), so a mismatch is visible.
 */
test('RTU: a late reply is never taken for the retry', async () => {
  const dir = tempDir('mgx-rtu-late-');
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  await startProcess(
    '/usr/bin/socat',
    ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`],
    /starting data transfer loop/,
  );
  await waitForFile(a);
  await waitForFile(b);
  await startProcess('/usr/bin/python3', [LATE, b, '250', '100'], /READY/);
  // Timeout 150 ms. Request 1 is answered at ~250 ms: inside the 200 ms drain
  // after its timeout. Without the drain the retry would go out at ~200 ms and
  // the late frame (250 ms) would arrive before the retry's own (~300 ms).
  const pool = new BusPool({ timeoutMs: 150, retries: 1, drainMs: 200 });
  try {
    const bus = pool.get({ type: 'rtu', path: a, baudRate: 9600, parity: 'none' });
    const regs = await bus.read({ unitId: 1, fc: 3, address: 0, count: 4 });
    assert.deepEqual(regs, [2, 101, 102, 103], 'the answer to request 2 (the retry), not the late answer to request 1');
    assert.equal(bus.stats.timeouts, 1);
    assert.deepEqual(await bus.read({ unitId: 1, fc: 3, address: 0, count: 2 }), [3, 101]);
  } finally {
    await pool.close();
  }
});
