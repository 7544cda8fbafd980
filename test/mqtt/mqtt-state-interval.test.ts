import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { EventBus } from '../../core/events.js';
import { toIso } from '../../core/interval.js';
import type { IntervalState } from '../../core/interval-state.js';
import { openLedger } from '../../ledger/ledger.js';
import { advanceInterval, getInterval } from '../../ledger/intervals.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { LiveHub } from '../../dashboard/live/hub.js';
import { connectEngineMqtt } from '../../app/mqtt/connection.js';
import { startStateOut } from '../../app/mqtt/state-out.js';
import { createLogger } from '../../app/logger.js';
import { startBroker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { demoWithMqtt, watch } from './watch.js';

const log = createLogger('silent');
const STEPS: IntervalState[] = ['open', 'closed', 'cleared', 'delivered', 'metered', 'settled', 'committed', 'final'];

test(
  'grid/interval keeps the newest settled interval: an older one going final later does not take its retained place',
  { timeout: 30_000 },
  async () => {
    const broker = await startBroker();
    const w = await watch(broker.url, ['mgx/demo/grid/interval']);
    const config = demoWithMqtt(broker.url, 1, 'all');
    const ledger = openLedger(join(tempDir(), 'ledger.sqlite'));
    const A = Date.parse('2026-06-21T10:00:00Z');
    const B = A + 15 * 60_000;
    const clock = new ManualClock(B + 30 * 60_000);
    for (const p of config.participants) upsertParticipant(ledger, p, clock.now());
    const bus = new EventBus();
    const hub = new LiveHub({ ledger, config, clock, bus, replayFrames: 10 });
    const mq = await connectEngineMqtt(config, {}, log);
    const out = await startStateOut({ mqtt: mq, hub, ledger, config, clock, log, version: 'test', everyMs: 100 });
    const step = (start: number, to: IntervalState) => {
      const from = STEPS.indexOf(getInterval(ledger, start)?.state ?? 'open');
      for (const s of STEPS.slice(from, STEPS.indexOf(to) + 1)) advanceInterval(ledger, start, s, clock.now());
      bus.emit({ type: 'interval-state', interval: toIso(start), state: to, at: new Date(clock.now()).toISOString() });
    };
    const last = () => JSON.parse(w.seen.at(-1)?.payload ?? '{}') as { start?: string; state?: string };
    try {
      step(A, 'settled');
      await w.waitFor((m) => (JSON.parse(m.payload) as { start: string }).start === toIso(A), 5000, 'A settled');
      step(B, 'settled');
      await w.waitFor((m) => (JSON.parse(m.payload) as { start: string }).start === toIso(B), 5000, 'B settled');
      step(A, 'final'); // A's chain steps lag behind B's settlement
      await new Promise((r) => setTimeout(r, 500)); // rounds enough for A's final to have gone out, were it to
      assert.deepEqual(last(), { ...last(), start: toIso(B), state: 'settled' });
      step(B, 'committed');
      await w.waitFor((m) => (JSON.parse(m.payload) as { state: string }).state === 'committed', 5000, 'B committed');
      assert.deepEqual(last(), { ...last(), start: toIso(B), state: 'committed' });
      assert.ok(
        !w.seen.some(
          (m) =>
            (JSON.parse(m.payload) as { start: string; state: string }).start === toIso(A) &&
            (JSON.parse(m.payload) as { state: string }).state === 'final',
        ),
        'A final never published over B',
      );
    } finally {
      out.close();
      hub.close();
      await mq.close();
      ledger.close();
      await w.end();
      await broker.stop();
    }
  },
);
