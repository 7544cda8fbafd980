import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pino from 'pino';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type MicrogridEvent } from '../../core/events.js';
import { toIso } from '../../core/interval.js';
import { openLedger } from '../../ledger/ledger.js';
import { getInterval } from '../../ledger/intervals.js';
import { IntervalCycle, type CycleSteps } from '../../app/interval-cycle.js';
import { tempDir } from '../helpers/tmp.js';

const T0 = Date.parse('2026-11-21T10:00:00Z');
const silent = pino({ level: 'silent' });

/** Steps that record what ran; the chain steps can be told to be down. */
function recordingSteps(): CycleSteps & { calls: string[]; chainUp: boolean; complete: Set<number> } {
  const calls: string[] = [];
  const s = {
    calls,
    chainUp: true,
    complete: new Set<number>(),
    clearForward: (t: number) => void calls.push(`clearForward ${toIso(t)}`),
    readingsComplete: (t: number) => s.complete.has(t),
    meter: (t: number) => void calls.push(`meter ${toIso(t)}`),
    settle: (t: number) => void calls.push(`settle ${toIso(t)}`),
    commit: async (t: number) => {
      if (!s.chainUp) return 'pending' as const;
      calls.push(`commit ${toIso(t)}`);
      return 'done' as const;
    },
    confirm: async (t: number) => {
      if (!s.chainUp) return false;
      calls.push(`confirm ${toIso(t)}`);
      return true;
    },
  };
  return s;
}

function setup(path: string, steps: CycleSteps, clock: ManualClock, bus = new EventBus()): IntervalCycle {
  return new IntervalCycle({
    ledger: openLedger(path),
    clock,
    bus,
    log: silent,
    steps,
    minutes: 15,
    gateClosureSeconds: 300,
    gracePeriodSeconds: 60,
    retryMs: 1,
  });
}

test('an interval goes through every state at the right times, each step once', async () => {
  const clock = new ManualClock(T0);
  const steps = recordingSteps();
  const bus = new EventBus();
  const events: MicrogridEvent[] = [];
  bus.onAny((e) => events.push(e));
  const path = join(tempDir(), 'l.sqlite');
  const cycle = setup(path, steps, clock, bus);
  const s = T0 + 900_000; // 10:15
  await cycle.tick();
  const ledger = openLedger(path);
  assert.equal(getInterval(ledger, s)?.state, 'open');
  await clock.advanceTo(s - 300_001);
  await cycle.tick();
  assert.equal(getInterval(ledger, s)?.state, 'open', 'still open before gate closure');
  await clock.advanceTo(s - 300_000);
  await cycle.tick();
  assert.equal(getInterval(ledger, s)?.state, 'cleared', 'gate closure clears forward orders');
  await clock.advanceTo(s + 900_000);
  await cycle.tick();
  assert.equal(getInterval(ledger, s)?.state, 'delivered', 'waits for readings or the grace period');
  await clock.advanceTo(s + 960_000);
  await cycle.tick();
  assert.equal(getInterval(ledger, s)?.state, 'final');
  const mine = steps.calls.filter((c) => c.endsWith(toIso(s)));
  assert.deepEqual(mine, [
    'clearForward 2026-11-21T10:15:00Z',
    'meter 2026-11-21T10:15:00Z',
    'settle 2026-11-21T10:15:00Z',
    'commit 2026-11-21T10:15:00Z',
    'confirm 2026-11-21T10:15:00Z',
  ]);
  const states = events
    .filter((e) => e.type === 'interval-state' && e.interval === toIso(s))
    .map((e) => (e as { state: string }).state);
  assert.deepEqual(states, ['open', 'closed', 'cleared', 'delivered', 'metered', 'settled', 'committed', 'final']);
  await cycle.stop();
  ledger.close();
});

test('complete readings end the wait before the grace period', async () => {
  const clock = new ManualClock(T0);
  const steps = recordingSteps();
  const path = join(tempDir(), 'l.sqlite');
  const cycle = setup(path, steps, clock);
  await cycle.tick();
  steps.complete.add(T0);
  await clock.advanceTo(T0 + 900_000);
  await cycle.tick();
  const ledger = openLedger(path);
  assert.equal(getInterval(ledger, T0)?.state, 'final');
  await cycle.stop();
  ledger.close();
});

test('with the chain down, intervals queue at settled and commit in order when it returns', async () => {
  const clock = new ManualClock(T0);
  const steps = recordingSteps();
  const path = join(tempDir(), 'l.sqlite');
  const cycle = setup(path, steps, clock);
  await cycle.tick();
  steps.chainUp = false;
  await clock.advanceTo(T0 + 4 * 900_000 + 60_000); // three intervals past their grace period
  await cycle.tick();
  const ledger = openLedger(path);
  for (let i = 0; i < 4; i++) assert.equal(getInterval(ledger, T0 + i * 900_000)?.state, 'settled');
  steps.chainUp = true;
  await cycle.tick();
  const commits = steps.calls.filter((c) => c.startsWith('commit'));
  assert.deepEqual(
    commits,
    [0, 1, 2, 3].map((i) => `commit ${toIso(T0 + i * 900_000)}`),
    'in interval order, once each',
  );
  await cycle.stop();
  ledger.close();
});

test('a step that throws leaves its interval where it was, raises an alarm, and is retried', async () => {
  const clock = new ManualClock(T0);
  const steps = recordingSteps();
  let fail = true;
  const settle = steps.settle;
  steps.settle = (t) => {
    if (fail) throw new Error('statement does not balance');
    settle(t);
  };
  const bus = new EventBus();
  const alarms: string[] = [];
  bus.on('alarm', (a) => alarms.push(`${a.code}: ${a.message}`));
  const path = join(tempDir(), 'l.sqlite');
  const cycle = setup(path, steps, clock, bus);
  await cycle.tick();
  await clock.advanceTo(T0 + 960_000);
  await cycle.tick();
  const ledger = openLedger(path);
  assert.equal(getInterval(ledger, T0)?.state, 'metered');
  assert.match(
    alarms[0] ?? '',
    /INTERVAL_STEP_FAILED: interval 2026-11-21T10:00:00Z is stuck after metered: statement does not balance/,
  );
  fail = false;
  await cycle.tick();
  assert.equal(getInterval(ledger, T0)?.state, 'final');
  await cycle.stop();
  ledger.close();
});

test('after a restart the cycle continues from the ledger and recovers intervals missed while down', async () => {
  const clock = new ManualClock(T0);
  const path = join(tempDir(), 'l.sqlite');
  const first = recordingSteps();
  const c1 = setup(path, first, clock);
  await c1.tick();
  await c1.stop();
  // down for two hours
  await clock.advanceTo(T0 + 2 * 3_600_000);
  const second = recordingSteps();
  const c2 = setup(path, second, clock);
  await c2.tick();
  const ledger = openLedger(path);
  const finals = (ledger.db.prepare("SELECT COUNT(*) AS n FROM intervals WHERE state = 'final'").get() as { n: number })
    .n;
  assert.equal(finals, 7, 'every interval that ended (and passed its grace period) is final: 10:00 … 11:30');
  assert.equal(second.calls.filter((c) => c.startsWith('settle')).length, 7, 'each settled once');
  assert.equal(first.calls.filter((c) => c.startsWith('settle')).length, 0);
  await c2.stop();
  ledger.close();
});
