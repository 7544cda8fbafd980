import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ManualClock } from '../../core/clock.js';
import { validateConfig } from '../../core/config/validate.js';
import type { ReadingEvent } from '../../core/events.js';
import { EventBus } from '../../core/events.js';
import { Metrics } from '../../core/metrics.js';
import { readingsTopic } from '../../core/mqtt-topics.js';
import { listReadingsBefore, setMeterGateway } from '../../ledger/readings.js';
import { signReading } from '../../meter-bridge/readings/sign.js';
import { connectEngineMqtt } from '../../app/mqtt/connection.js';
import { startReadingsIn, type ReadingsIn } from '../../app/mqtt/readings-in.js';
import { createLogger } from '../../app/logger.js';
import { startBroker } from '../helpers/mosquitto.js';
import { ledgerWithMeters, waitUntil } from '../meter-bridge/helpers.js';

const T0 = Date.UTC(2026, 5, 21, 12, 0, 0);
const reading = (meterId: string, s: number): ReadingEvent => ({
  type: 'reading',
  meterId,
  ts: new Date(T0 + s * 1000).toISOString(),
  powerW: -1500,
  importWh: 10_000 + s,
  exportWh: 500 + s,
  voltageV: 230.1,
  frequencyHz: 50.01,
  quality: 'good',
});

/**
 * The engine's real connection and subscriber on a real mosquitto, a ledger with meters m1, m2 signed by one gateway.
 */
async function setup(opts: { messagesPerMinute?: number; maxMessageBytes?: number } = {}) {
  const broker = await startBroker();
  const ledger = ledgerWithMeters(['m1', 'm2']);
  const gw = privateKeyToAccount(generatePrivateKey());
  setMeterGateway(ledger, 'm1', gw.address);
  setMeterGateway(ledger, 'm2', gw.address);
  const config = validateConfig({ microgrid: { id: 'mg-a' }, mqtt: { url: broker.url } });
  const lines: { topic?: string; reason?: string; msg: string }[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]), cb()),
  });
  const log = createLogger('info', sink);
  const engine = await connectEngineMqtt(config, {}, log);
  const metrics = new Metrics();
  const bus = new EventBus();
  const announced: ReadingEvent[] = [];
  bus.on('reading', (r) => announced.push(r));
  let wall = Date.now();
  const rin: ReadingsIn = await startReadingsIn({
    mqtt: engine,
    ledger,
    clock: new ManualClock(T0 + 3_600_000),
    bus,
    metrics,
    log,
    messagesPerMinute: opts.messagesPerMinute ?? 600,
    maxMessageBytes: opts.maxMessageBytes ?? 65_536,
    wallNow: () => wall,
  });
  const pub = await mqtt.connectAsync(broker.url, { clientId: 'hostile-test-publisher' });
  const topic = (meter: string) => readingsTopic({ prefix: 'mgx', microgrid: 'mg-a' }, meter);
  const stored = (meter: string) => listReadingsBefore(ledger, meter, 0, T0 + 86_400_000);
  const close = async () => {
    await pub.endAsync();
    await rin.stop();
    await engine.close();
    ledger.close();
    await broker.stop();
  };
  return {
    broker,
    ledger,
    gw,
    engine,
    rin,
    metrics,
    lines,
    announced,
    pub,
    topic,
    stored,
    close,
    advanceWall: (ms: number) => (wall += ms),
  };
}

test(
  'hostile MQTT readings: each bad kind is dropped with its reason, counted, and the good message after it is taken',
  { timeout: 60_000 },
  async () => {
    const s = await setup({ maxMessageBytes: 8192 });
    const other = privateKeyToAccount(generatePrivateKey());
    try {
      let n = 0;
      /**
       * Publishes a bad message, then a good one; the good one must be stored and the bad one counted under `reason`.
       */
      const badThenGood = async (reason: string, topic: string, payload: string | Buffer): Promise<void> => {
        const before = s.rin.stats().rejected[reason as 'json'] ?? 0;
        await s.pub.publishAsync(topic, payload, { qos: 1 });
        const good = await signReading(s.gw, reading('m1', ++n));
        await s.pub.publishAsync(s.topic('m1'), JSON.stringify({ readings: [good] }), { qos: 1 });
        await waitUntil(
          () => s.stored('m1').some((r) => r.ts === Date.parse(good.ts)),
          20_000,
          `the good reading after the ${reason} message`,
        );
        assert.equal(
          s.rin.stats().rejected[reason as 'json'],
          before + 1,
          `one message rejected as ${reason}: ${JSON.stringify(s.rin.stats())}`,
        );
        const line = s.lines.findLast((l) => l.reason === reason);
        assert.ok(line, `a log line with reason ${reason}`);
        assert.equal(line.topic, topic);
      };

      await badThenGood('json', s.topic('m1'), '{"readings": [ not json');
      await badThenGood(
        'schema',
        s.topic('m1'),
        JSON.stringify({ readings: [{ ...(await signReading(s.gw, reading('m1', 900))), powerW: 'a lot' }] }),
      );
      await badThenGood('schema', s.topic('m1'), JSON.stringify({ readings: [] }));
      await badThenGood(
        'schema',
        s.topic('m1'),
        JSON.stringify({ readings: [await signReading(s.gw, reading('m1', 901))], extra: 1 }),
      );
      const big = await signReading(s.gw, reading('m1', 902));
      await badThenGood(
        'size',
        s.topic('m1'),
        JSON.stringify({
          readings: Array.from({ length: 30 }, (_, i) => ({
            ...big,
            ts: new Date(T0 + (902 + i) * 1000).toISOString(),
          })),
        }),
      );
      // m2's reading on m1's topic: the topic names the meter.
      await badThenGood(
        'topic',
        s.topic('m1'),
        JSON.stringify({ readings: [await signReading(s.gw, reading('m2', 903))] }),
      );
      await badThenGood(
        'signature',
        s.topic('m1'),
        JSON.stringify({ readings: [await signReading(other, reading('m1', 904))] }),
      );
      const tampered = await signReading(s.gw, reading('m1', 905));
      await badThenGood('signature', s.topic('m1'), JSON.stringify({ readings: [{ ...tampered, exportWh: 99_999 }] }));
      // `readings/+` matches an empty meter level too.
      await badThenGood(
        'topic',
        'mgx/mg-a/readings/',
        JSON.stringify({ readings: [await signReading(s.gw, reading('m1', 910))] }),
      );
      // A meter nobody registered: the same answer as a bad signature.
      await badThenGood(
        'signature',
        s.topic('m9'),
        JSON.stringify({ readings: [await signReading(s.gw, reading('m9', 906))] }),
      );
      // One bad reading refuses the whole message (a spool keeps its order), the good one in it included.
      const goodInBad = await signReading(s.gw, reading('m1', 907));
      await badThenGood(
        'signature',
        s.topic('m1'),
        JSON.stringify({ readings: [goodInBad, await signReading(other, reading('m1', 908))] }),
      );
      assert.ok(
        !s.stored('m1').some((r) => r.ts === Date.parse(goodInBad.ts)),
        'nothing of a refused message is stored',
      );
      // Another microgrid's topic is not this engine's: never received, not counted.
      const elsewhere = await signReading(s.gw, reading('m1', 909));
      await s.pub.publishAsync(
        readingsTopic({ prefix: 'mgx', microgrid: 'mg-b' }, 'm1'),
        JSON.stringify({ readings: [elsewhere] }),
        { qos: 1 },
      );

      // One signed reading alone (not wrapped) is taken too.
      const single = await signReading(s.gw, reading('m2', 1));
      await s.pub.publishAsync(s.topic('m2'), JSON.stringify(single), { qos: 1 });
      await waitUntil(() => s.stored('m2').length === 1, 20_000, 'the single reading');
      // A duplicate changes nothing: counted, not stored again, not announced again.
      const announcedBefore = s.announced.length;
      await s.pub.publishAsync(s.topic('m2'), JSON.stringify({ readings: [single] }), { qos: 1 });
      await waitUntil(() => s.rin.stats().duplicates === 1, 20_000, 'the duplicate counted');
      assert.equal(s.stored('m2').length, 1);
      assert.equal(s.announced.length, announcedBefore);

      assert.ok(
        !s.stored('m1').some((r) => r.ts === Date.parse(elsewhere.ts)),
        "another microgrid's reading is not taken",
      );
      assert.deepEqual(
        s.stored('m1').map((r) => r.ts),
        Array.from({ length: n }, (_, i) => T0 + (i + 1) * 1000),
        'exactly the good readings, in order',
      );
      const text = await s.metrics.render();
      assert.match(text, /^mgx_mqtt_messages_rejected_total\{reason="json"\} 1$/m);
      assert.match(text, /^mgx_mqtt_messages_rejected_total\{reason="schema"\} 3$/m);
      assert.match(text, /^mgx_mqtt_messages_rejected_total\{reason="size"\} 1$/m);
      assert.match(text, /^mgx_mqtt_messages_rejected_total\{reason="topic"\} 2$/m);
      assert.match(text, /^mgx_mqtt_messages_rejected_total\{reason="signature"\} 4$/m);
      assert.match(text, new RegExp(`^mgx_mqtt_readings_accepted_total ${n + 1}$`, 'm'));
      assert.match(text, /^mgx_mqtt_readings_duplicate_total 1$/m);
      // The reason names the field and the value.
      assert.match(s.lines.find((l) => l.reason === 'schema')!.msg, /payload\.readings\[0\]\.powerW/);
      assert.match(s.lines.find((l) => l.reason === 'size')!.msg, /at most 8192/);
      assert.match(s.lines.find((l) => l.reason === 'topic')!.msg, /meterId is "m2"; the topic is meter "m1"/);
    } finally {
      await s.close();
    }
  },
);

test(
  'MQTT readings are limited per gateway per minute, like POST /api/readings; the next minute is taken again',
  { timeout: 60_000 },
  async () => {
    const s = await setup({ messagesPerMinute: 3 });
    try {
      for (let i = 1; i <= 5; i++)
        await s.pub.publishAsync(
          s.topic('m1'),
          JSON.stringify({ readings: [await signReading(s.gw, reading('m1', i))] }),
          { qos: 1 },
        );
      await waitUntil(() => (s.rin.stats().rejected.rate ?? 0) === 2, 20_000, 'two messages over the limit');
      assert.deepEqual(
        s.stored('m1').map((r) => r.ts),
        [1, 2, 3].map((i) => T0 + i * 1000),
      );
      assert.match(s.lines.find((l) => l.reason === 'rate')!.msg, /at most 3 per minute/);
      s.advanceWall(60_000);
      const next = await signReading(s.gw, reading('m1', 6));
      await s.pub.publishAsync(s.topic('m1'), JSON.stringify({ readings: [next] }), { qos: 1 });
      await waitUntil(() => s.stored('m1').length === 4, 20_000, 'the next minute taken');
    } finally {
      await s.close();
    }
  },
);

test(
  'the persistent session: readings published while the engine is away are taken when it is back, each once',
  { timeout: 60_000 },
  async () => {
    const s = await setup();
    try {
      const first = await signReading(s.gw, reading('m1', 1));
      await s.pub.publishAsync(s.topic('m1'), JSON.stringify({ readings: [first] }), { qos: 1 });
      await waitUntil(() => s.stored('m1').length === 1, 20_000, 'the first reading');
      await s.rin.stop();
      await s.engine.close();
      // The engine is away: the broker keeps these for its session (QoS 1, clean: false).
      const away = await Promise.all(Array.from({ length: 20 }, (_, i) => signReading(s.gw, reading('m1', 10 + i))));
      for (const r of away) await s.pub.publishAsync(s.topic('m1'), JSON.stringify({ readings: [r] }), { qos: 1 });
      const config = validateConfig({ microgrid: { id: 'mg-a' }, mqtt: { url: s.broker.url } });
      const log = createLogger('silent');
      const engine = await connectEngineMqtt(config, {}, log);
      // The queued messages come right after the connect; they wait for the handler instead of being lost.
      await new Promise((r) => setTimeout(r, 300));
      const rin = await startReadingsIn({
        mqtt: engine,
        ledger: s.ledger,
        clock: new ManualClock(T0),
        log,
        messagesPerMinute: 600,
        maxMessageBytes: 65_536,
      });
      try {
        await waitUntil(() => s.stored('m1').length === 21, 20_000, 'the readings queued while away');
        assert.deepEqual(
          s.stored('m1').map((r) => r.ts),
          [T0 + 1000, ...away.map((r) => Date.parse(r.ts))],
        );
        assert.equal(rin.stats().duplicates, 0);
      } finally {
        await rin.stop();
        await engine.close();
      }
    } finally {
      await s.pub.endAsync();
      s.ledger.close();
      await s.broker.stop();
    }
  },
);
