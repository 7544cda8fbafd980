import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pino from 'pino';
import { ManualClock } from '../../core/clock.js';
import { EventBus } from '../../core/events.js';
import { openLedger } from '../../ledger/ledger.js';
import { IntervalCycle, type CycleSteps } from '../../app/interval-cycle.js';
import { tempDir } from '../helpers/tmp.js';

const T0 = Date.parse('2026-11-21T10:00:00Z');

const steps: CycleSteps = {
  clearForward: () => {},
  readingsComplete: () => true,
  meter: () => {},
  settle: () => {},
  commit: async () => 'done' as const,
  confirm: async () => true,
};

/**
 * A pass the cycle's own timer starts (gate closure, grace end) has no caller
 * to reject to. When it fails outside a step (here the ledger is gone) it is
 * logged; an unhandled rejection would end the engine.
 */
test('a pass started by a timer that fails is logged, not an unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const lines: string[] = [];
  const log = pino({ level: 'error' }, { write: (s: string) => void lines.push(s) });
  const clock = new ManualClock(T0);
  const ledger = openLedger(join(tempDir(), 'l.sqlite'));
  const cycle = new IntervalCycle({
    ledger,
    clock,
    bus: new EventBus(),
    log,
    steps,
    minutes: 15,
    gateClosureSeconds: 300,
    gracePeriodSeconds: 60,
    retryMs: 1,
  });
  try {
    await cycle.tick();
    ledger.close();
    await clock.advanceTo(T0 + 60_000); // the grace-period timer of the interval before
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.ok(
      lines.some((l) => l.includes('interval cycle: a pass failed')),
      lines.join('\n'),
    );
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await cycle.stop().catch(() => {});
  }
});
