import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, ScaledClock } from '../../core/clock.js';

test('ManualClock fires timers in time order, each at its own time', async () => {
  const c = new ManualClock(0);
  const seen: [string, number][] = [];
  c.at(300, () => void seen.push(['b', c.now()]));
  c.at(100, () => void seen.push(['a', c.now()]));
  c.at(300, () => void seen.push(['c', c.now()]));
  const cancelled = c.at(200, () => void seen.push(['x', c.now()]));
  cancelled.cancel();
  await c.advanceTo(1000);
  assert.deepEqual(seen, [
    ['a', 100],
    ['b', 300],
    ['c', 300],
  ]);
  assert.equal(c.now(), 1000);
  await assert.rejects(c.advanceTo(10), RangeError);
});

test('ManualClock runs a whole day of 15-minute timers in milliseconds', async () => {
  const c = new ManualClock(Date.parse('2026-03-29T00:00:00Z'));
  let fired = 0;
  const arm = (at: number): void => void c.at(at, () => (fired++, arm(at + 900_000)));
  arm(c.now() + 900_000);
  const t0 = performance.now();
  await c.advanceBy(86_400_000);
  assert.equal(fired, 96);
  assert.ok(performance.now() - t0 < 1000);
});

test('ScaledClock runs market time faster and never fires a timer early', async () => {
  const c = new ScaledClock(60);
  const start = c.now();
  const target = start + 60_000; // one market minute = 1 s of wall time
  const firedAt = await new Promise<number>((resolve) => c.at(target, () => resolve(c.now())));
  assert.ok(firedAt >= target, `fired at ${firedAt}, before ${target}`);
  assert.ok(firedAt - target < 10_000, 'fired within 10 market seconds of its time');
  assert.throws(() => new ScaledClock(0), RangeError);
});
