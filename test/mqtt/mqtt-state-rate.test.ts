import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { EventBus } from '../../core/events.js';
import { openLedger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { LiveHub } from '../../dashboard/live/hub.js';
import { connectEngineMqtt } from '../../app/mqtt/connection.js';
import { startStateOut } from '../../app/mqtt/state-out.js';
import { createLogger } from '../../app/logger.js';
import { startBroker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { demoWithMqtt, until, watch } from './watch.js';

const log = createLogger('silent');

test(
  'state out is rate-bounded: 200 frames a second reach the broker as at most one message per topic per second, the newest state last',
  { timeout: 60_000 },
  async () => {
    const broker = await startBroker();
    const w = await watch(broker.url, ['mgx/#']);
    const config = demoWithMqtt(broker.url, 2, 'all');
    const ledger = openLedger(join(tempDir(), 'ledger.sqlite'));
    const clock = new ManualClock(Date.parse('2026-06-21T10:00:00Z'));
    for (const p of config.participants) upsertParticipant(ledger, p, clock.now());
    const bus = new EventBus();
    // No per-meter throttle in the hub: every reading is a frame of its own.
    const hub = new LiveHub({ ledger, config, clock, bus, replayFrames: 10, readingGapMs: 1 });
    const mq = await connectEngineMqtt(config, {}, log);
    const out = await startStateOut({ mqtt: mq, hub, ledger, config, clock, log, version: 'test' });
    let frames = 0;
    const unsub = hub.subscribe(() => frames++);
    try {
      assert.deepEqual(
        out.households.map((h) => h.id),
        ['h01', 'h02'],
        '"all" is every participant',
      );
      const start = Date.now();
      let n = 0;
      let last = 0;
      // 3 s of one reading every 5 ms for h01's grid meter, each in a turn of its own (one frame each).
      while (Date.now() - start < 3000) {
        last = 100 + (n % 500);
        bus.emit({
          type: 'reading',
          meterId: 'h01-grid',
          ts: new Date(clock.now() + ++n * 10).toISOString(),
          powerW: last,
          importWh: 1000 + n,
          exportWh: 0,
          voltageV: null,
          frequencyHz: null,
          quality: 'good',
        });
        await new Promise((r) => setTimeout(r, 5));
      }
      const wallS = (Date.now() - start) / 1000;
      const topic = 'mgx/demo/households/h01/state';
      // The newest reading arrives within a round.
      const final = await until(
        () =>
          w.seen.findLast(
            (m) =>
              m.topic === topic &&
              (JSON.parse(m.payload) as { meters: Record<string, { importWh: number }> }).meters['h01-grid']!
                .importWh ===
                1000 + n,
          ),
        5000,
        'the newest reading published',
      );
      const doc = JSON.parse(final.payload) as { seq: number; meters: Record<string, { powerW: number }> };
      assert.equal(doc.meters['h01-grid']!.powerW, last);
      const msgs = w.seen.filter((m) => m.topic === topic).length;
      console.log(`${n} readings, ${frames} frames in ${wallS.toFixed(1)} s → ${msgs} messages on ${topic}`);
      assert.ok(frames >= 100, `the hub sent many frames (${frames})`);
      assert.ok(msgs <= Math.ceil(wallS) + 2, `${msgs} messages in ${wallS.toFixed(1)} s`);
      assert.ok(msgs >= 2, 'published while it changed');
      // h02 sent nothing new: its state went out once (the first round) and not again.
      assert.equal(w.seen.filter((m) => m.topic === 'mgx/demo/households/h02/state').length, 1);

      // The broker away: nothing is queued for it; back, it gets the newest state (one message), not the backlog.
      await w.end();
      await broker.stop();
      await until(() => (mq.client.connected ? undefined : true), 10_000, 'the engine noticing');
      for (let i = 0; i < 100; i++) {
        bus.emit({
          type: 'reading',
          meterId: 'h01-grid',
          ts: new Date(clock.now() + ++n * 10).toISOString(),
          powerW: i,
          importWh: 1000 + n,
          exportWh: 0,
          voltageV: null,
          frequencyHz: null,
          quality: 'good',
        });
        await new Promise((r) => setTimeout(r, 5));
      }
      await broker.restart();
      await until(() => (mq.client.connected ? true : undefined), 15_000, 'the engine reconnected');
      const back = await watch(broker.url, [topic]);
      try {
        const got = await until(
          () =>
            back.seen.find(
              (m) =>
                (JSON.parse(m.payload) as { meters: Record<string, { importWh: number }> }).meters['h01-grid']!
                  .importWh ===
                1000 + n,
            ),
          10_000,
          'the newest state after the return',
        );
        assert.equal(
          (JSON.parse(got.payload) as { meters: Record<string, { powerW: number }> }).meters['h01-grid']!.powerW,
          99,
        );
        await new Promise((r) => setTimeout(r, 1500));
        assert.ok(back.seen.length <= 2, `no backlog replayed (${back.seen.length} messages)`);
      } finally {
        await back.end();
      }
    } finally {
      unsub();
      out.close();
      hub.close();
      await mq.close();
      ledger.close();
      await w.end().catch(() => {});
      await broker.stop();
    }
  },
);
