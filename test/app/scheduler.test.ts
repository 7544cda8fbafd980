import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../core/clock.js';
import { toIso } from '../../core/interval.js';
import { IntervalScheduler } from '../../app/scheduler.js';

test('the scheduler fires once per boundary across a whole day, in order, without overlap', async () => {
  const clock = new ManualClock(Date.parse('2026-03-28T23:52:00Z'));
  const s = new IntervalScheduler(clock, 15);
  const fired: string[] = [];
  let running = 0;
  s.start(async (start) => {
    running++;
    assert.equal(running, 1, 'handlers never overlap');
    await new Promise((r) => setImmediate(r));
    fired.push(toIso(start));
    running--;
  });
  await clock.advanceTo(Date.parse('2026-03-29T23:59:00Z'));
  await s.idle();
  await s.stop();
  assert.equal(fired.length, 96);
  assert.equal(fired[0], '2026-03-29T00:00:00Z');
  assert.equal(fired.at(-1), '2026-03-29T23:45:00Z');
});

test('a failing handler is reported and the next boundary still fires', async () => {
  const clock = new ManualClock(0);
  const s = new IntervalScheduler(clock, 5);
  const errors: number[] = [];
  const ok: number[] = [];
  s.onError = (_e, start) => errors.push(start);
  s.start((start) => {
    if (start === 300_000) throw new Error('boom');
    ok.push(start);
  });
  await clock.advanceTo(900_000);
  await s.stop();
  assert.deepEqual(errors, [300_000]);
  assert.deepEqual(ok, [600_000, 900_000]);
});

test('at wall speed the boundary is driven by a cron expression in UTC', () => {
  assert.equal(new IntervalScheduler(new ManualClock(0), 15, { useCron: true }).cronExpression, '0 */15 * * * *');
  assert.equal(new IntervalScheduler(new ManualClock(0), 60, { useCron: true }).cronExpression, '0 0 * * * *');
});
