import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startMicrogrid } from '../../app/start.js';
import type { SnapshotFrame } from '../../dashboard/live/model.js';
import type { ParticipantToday } from '../../dashboard/participant-today.js';
import type { CreditRow } from '../../dashboard/credit-rows.js';
import { startBroker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { api, demoWithMqtt, silent, testEnv, until, watch, type Seen } from './watch.js';

const LISTED = ['h01', 'h02'];
const UNLISTED = ['h03', 'h04'];

/**
 * The demo's households at 180× (a 15-minute interval in 5 s of wall time, a reading every 3 market minutes), two of
 * four listed:
 * a subscriber on `#` from before the start sees every message the engine ever publishes.
 */
test(
  'state out: the numbers of /api/state and /today on retained topics, rate-bounded, nothing of an unlisted household, offline when cut',
  { timeout: 240_000 },
  async () => {
    const broker = await startBroker();
    const all = await watch(broker.url, ['#']);
    const config = demoWithMqtt(broker.url, 4, LISTED);
    const mg = await startMicrogrid({
      config,
      configSource: 'test',
      dataDir: join(tempDir(), 'data'),
      log: silent,
      port: 0,
      speed: 180,
      env: testEnv,
    });
    let stopped = false;
    try {
      const t0 = Date.now();
      // Wait for settled intervals in which a listed household traded with its neighbours.
      const today = (h: string) => api<ParticipantToday>(mg.url, `/api/participants/${h}/today`);
      await until(
        async () => {
          const t = await Promise.all(LISTED.map(today));
          return t.every((x) => x.intervals >= 2) && t.some((x) => x.soldWh + x.boughtWh > 0) ? t : undefined;
        },
        150_000,
        'two settled intervals with local trades',
      );

      // Live state: a message carrying frame seq S holds exactly what /api/state held at seq S.
      const byTopic = (topic: string) => (m: Seen) => m.topic === topic && m.payload !== '';
      for (const h of LISTED) {
        const topic = `mgx/demo/households/${h}/state`;
        let matched = 0;
        for (let tries = 0; matched < 3 && tries < 60; tries++) {
          const snap = await api<SnapshotFrame>(mg.url, '/api/state');
          await all.waitFor(
            (m) => byTopic(topic)(m) && (JSON.parse(m.payload) as { seq: number }).seq >= snap.seq,
            10_000,
            `${topic} at seq ≥ ${snap.seq}`,
          );
          // Frames between the fetch and the publish: this message is of a later frame; ask again.
          const same = all.seen.find(
            (m) => byTopic(topic)(m) && (JSON.parse(m.payload) as { seq: number }).seq === snap.seq,
          );
          if (!same) continue;
          const at = JSON.parse(same.payload) as { seq: number; meters: Record<string, Record<string, unknown>> };
          const meters = Object.values(snap.state.meters).filter((x) => x.participantId === h);
          assert.deepEqual(Object.keys(at.meters).sort(), meters.map((x) => x.meterId).sort(), `${h}: its meters`);
          for (const x of meters) {
            assert.deepEqual(
              at.meters[x.meterId],
              {
                role: x.role,
                powerW: x.powerW,
                importWh: x.importWh,
                exportWh: x.exportWh,
                ts: x.ts,
                quality: x.quality,
              },
              `${h} ${x.meterId} at seq ${snap.seq}`,
            );
          }
          matched++;
        }
        assert.ok(matched >= 1, `${h}: a state message matched /api/state at the same frame`);
      }
      {
        let matched = 0;
        for (let tries = 0; matched < 3 && tries < 60; tries++) {
          const snap = await api<SnapshotFrame>(mg.url, '/api/state');
          await all.waitFor(
            (m) => m.topic === 'mgx/demo/grid/state' && (JSON.parse(m.payload) as { seq: number }).seq >= snap.seq,
            10_000,
            `grid state at seq ≥ ${snap.seq}`,
          );
          const same = all.seen.find(
            (m) => m.topic === 'mgx/demo/grid/state' && (JSON.parse(m.payload) as { seq: number }).seq === snap.seq,
          );
          if (!same) continue;
          const doc = JSON.parse(same.payload) as { balance: unknown; currentInterval: string };
          assert.deepEqual(doc.balance, snap.state.balance, `the balance at seq ${snap.seq}`);
          matched++;
        }
        assert.ok(matched >= 1, 'a grid state message matched /api/state at the same frame');
      }

      // The day so far: the message of the same settled intervals carries the API's figures, plus the credits of
      // /api/credits.
      for (const h of LISTED) {
        const t = await today(h);
        const msg = await all.waitFor(
          (m) =>
            m.topic === `mgx/demo/households/${h}/today` &&
            (JSON.parse(m.payload) as ParticipantToday).intervals === t.intervals &&
            (JSON.parse(m.payload) as ParticipantToday).day === t.day,
          10_000,
          `${h} today with ${t.intervals} intervals`,
        );
        const doc = JSON.parse(msg.payload) as ParticipantToday & { creditsWh: number };
        const { to: _a, ...api1 } = t;
        const { to: _b, creditsWh, ...mq } = doc;
        assert.deepEqual(mq, api1, `${h}: today as the API has it`);
        // Credits of the same intervals (the day's first `intervals` statements: intervals settle in order).
        const range = `from=${t.day}&to=${encodeURIComponent(new Date(Date.parse(t.to) + 86_400_000).toISOString())}`;
        const statements = await api<{ interval: string }[]>(mg.url, `/api/statements?participant=${h}&${range}`);
        const counted = new Set(
          statements
            .map((x) => x.interval)
            .filter((i) => i.startsWith(t.day.slice(0, 10)))
            .sort()
            .slice(0, doc.intervals),
        );
        const credits = await api<CreditRow[]>(mg.url, `/api/credits?participant=${h}&${range}`);
        assert.equal(
          creditsWh,
          credits.filter((c) => counted.has(c.interval)).reduce((a, c) => a + c.creditsWh, 0),
          `${h}: credits today`,
        );
      }

      // Each settled interval's result, as /api/intervals lists it (its state has moved on since: compared without it).
      const results = all.seen
        .filter((m) => m.topic === 'mgx/demo/grid/interval')
        .map((m) => JSON.parse(m.payload) as Record<string, unknown> & { start: string; state: string });
      assert.ok(results.length >= 2, 'a result per settled interval');
      assert.ok(results.every((r) => ['settled', 'committed', 'final'].includes(r.state)));
      // The retained result is the newest interval's: an older one's later states (committed, final) never take its
      // place.
      assert.deepEqual(
        results.map((r) => r.start),
        results.map((r) => r.start).sort(),
        'results in interval order',
      );
      const listed = await api<(Record<string, unknown> & { start: string })[]>(mg.url, '/api/intervals?limit=500');
      for (const r of results) {
        const row = listed.find((x) => x.start === r.start);
        assert.ok(row, `${r.start} is listed`);
        for (const k of ['clearingPrice', 'matchedWh', 'surplus', 'trades', 'kinds'])
          assert.deepEqual(r[k], row[k], `${r.start} ${k}`);
      }

      // Rate bound: at most one message per live topic per second (plus the first round), while the
      // bridge polls every meter every second and the hub sends a frame per poll round.
      const live = ['mgx/demo/grid/state', ...LISTED.map((h) => `mgx/demo/households/${h}/state`)];
      const count = (topic: string) => all.seen.filter((m) => m.topic === topic).length;
      await until(
        () => (live.every((t) => count(t) >= 8) ? true : undefined),
        60_000,
        'eight messages on each live topic',
      );
      const wallS = (Date.now() - t0) / 1000;
      for (const topic of live)
        assert.ok(count(topic) <= wallS + 2, `${topic}: ${count(topic)} messages in ${wallS.toFixed(1)} s`);
      console.log(`live topics: ${live.map((t) => `${t} ${count(t)}`).join(', ')} in ${wallS.toFixed(1)} s`);

      // A late subscriber gets the last value of every topic at once (retained).
      const late = await watch(broker.url, ['mgx/demo/#']);
      try {
        for (const topic of [
          'mgx/demo/status',
          'mgx/demo/grid/state',
          'mgx/demo/grid/interval',
          ...LISTED.flatMap((h) => [`mgx/demo/households/${h}/state`, `mgx/demo/households/${h}/today`]),
        ]) {
          const m = await late.waitFor((x) => x.topic === topic, 5000, `retained ${topic}`);
          assert.equal(m.retain, true, `${topic} is retained`);
        }
      } finally {
        await late.end();
      }

      // The connection cut without a goodbye: the broker's last will says offline; the engine comes back and says
      // online, with fresh state.
      const cutAt = Date.now();
      mg.mqtt!.client.stream.destroy();
      await all.waitFor(
        (m) => m.topic === 'mgx/demo/status' && m.payload === 'offline' && m.at >= cutAt,
        15_000,
        'offline after the cut',
      );
      await all.waitFor(
        (m) => m.topic === 'mgx/demo/status' && m.payload === 'online' && m.at >= cutAt,
        15_000,
        'online again',
      );
      await all.waitFor(
        (m) => m.topic === 'mgx/demo/households/h01/today' && m.at >= cutAt,
        15_000,
        'the day republished after the return',
      );

      await mg.stop();
      stopped = true;
      await all.waitFor(
        (m) => m.topic === 'mgx/demo/status' && m.payload === 'offline' && m.at >= cutAt,
        5000,
        'offline at stop',
      );

      // Privacy: no topic and no payload names an unlisted household, its name or its meters.
      const secrets = UNLISTED.flatMap((h) => [h, `Household ${h.slice(1)}`, `${h}-grid`, `${h}-pv`]);
      for (const m of all.seen) {
        for (const s of secrets) {
          assert.ok(
            !m.topic.includes(s) && !m.payload.includes(s),
            `${m.topic} names ${s}: ${m.payload.slice(0, 200)}`,
          );
        }
      }
      assert.ok(all.seen.length > 50, `the engine published (${all.seen.length} messages)`);
    } finally {
      if (!stopped) await mg.stop();
      await all.end();
      await broker.stop();
    }
  },
);
