import mqtt, { type MqttClient } from 'mqtt';
import type { ReadingEvent } from '../../core/events.js';
import { readingsTopic, type TopicBase } from '../../core/mqtt-topics.js';
import type { BridgeLogger } from '../logger.js';
import type { ReadingSink } from './reading-sink.js';
import { Spool } from './spool.js';

export interface MqttSinkOptions {
  /** The broker, e.g. mqtt://broker.local:1883. */
  url: string;
  username?: string;
  password?: string;
  /** `mqtt.topicPrefix` and `microgrid.id`: readings go to `<prefix>/<microgrid>/readings/<meterId>`. */
  topics: TopicBase;
  /** The gateway's address: names the client (`mgx-<microgrid>-gw-<first 10>`). */
  gateway: string;
  clientId?: string;
  /** Folder for readings the broker has not acknowledged yet. */
  spoolDir: string;
  spoolMaxBytes: number;
  /** Largest message (the engine drops bigger ones: `server.bodyLimitBytes`, default 65,536). */
  maxMessageBytes?: number;
  /**
   * Messages per second at most, so a spool sent after an outage stays under the engine's per-gateway limit (600 a
   * minute by default).
   */
  maxMessagesPerSecond?: number;
  flushIntervalMs?: number;
  /** A publish not acknowledged within this is sent again later (from the spool). */
  ackTimeoutMs?: number;
  log?: BridgeLogger & { debug?(obj: object, msg?: string): void };
}

export interface MqttSink extends ReadingSink {
  flush(): Promise<void>;
  stats(): { published: number; messages: number; spooled: number; failures: number; lastError: string | null };
}

/** The engine takes at most 500 readings in one message (dashboard/readings-intake.ts). */
const MAX_READINGS_PER_MESSAGE = 500;

/**
 * For a bridge on a household's gateway (`mgx bridge --mqtt`): signed readings
 * are published at QoS 1 to the meter's readings topic, as `{ readings: [...] }`
 * batches per meter. Every flush first writes what was recorded to a bounded
 * disk spool (the push sink's, meter-bridge/sinks/spool.ts); a batch leaves the
 * spool only when the broker acknowledged every message of it. So while the
 * broker is down, or a publish goes unanswered, readings wait on disk in order
 * and survive a restart of the bridge. A message sent twice (acknowledged, but
 * the ack lost) is a duplicate the engine ignores.
 */
export function createMqttSink(o: MqttSinkOptions): MqttSink {
  const spool = new Spool(o.spoolDir, o.spoolMaxBytes);
  const maxBytes = o.maxMessageBytes ?? 60_000;
  const gapMs = 1000 / (o.maxMessagesPerSecond ?? 5);
  const ackTimeoutMs = o.ackTimeoutMs ?? 10_000;
  let pending: string[] = [];
  let published = 0;
  let messages = 0;
  let failures = 0;
  let lastError: string | null = null;
  let lastPublishAt = 0;
  let closing = false;

  const client: MqttClient = mqtt.connect(o.url, {
    clientId: o.clientId ?? `mgx-${o.topics.microgrid}-gw-${o.gateway.slice(0, 10).toLowerCase()}`,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(o.username ? { username: o.username } : {}),
    ...(o.password ? { password: o.password } : {}),
  });
  client.on('connect', () => {
    o.log?.info({ url: o.url, spooled: spool.lines }, `mqtt connected to ${o.url}`);
    flushInBackground();
  });
  client.on('offline', () =>
    o.log?.warn({ url: o.url, spooled: spool.lines }, 'mqtt broker unreachable; spooling readings'),
  );
  client.on('error', (err) => {
    lastError = err.message;
    o.log?.warn({ err: err.message }, `mqtt: ${err.message}`);
  });

  /** One meter's lines as messages of at most maxBytes and 500 readings, in order. */
  const messagesOf = (lines: string[]): { topic: string; payload: string }[] => {
    const byMeter = new Map<string, string[][]>();
    for (const line of lines) {
      const meterId = (JSON.parse(line) as ReadingEvent).meterId;
      let chunks = byMeter.get(meterId);
      if (!chunks) byMeter.set(meterId, (chunks = [[]]));
      let last = chunks.at(-1)!;
      const bytes = last.reduce((s, l) => s + l.length + 1, 14) + line.length;
      if (last.length > 0 && (last.length >= MAX_READINGS_PER_MESSAGE || bytes > maxBytes)) chunks.push((last = []));
      last.push(line);
    }
    const out: { topic: string; payload: string }[] = [];
    for (const [meterId, chunks] of byMeter)
      for (const c of chunks)
        out.push({ topic: readingsTopic(o.topics, meterId), payload: `{"readings":[${c.join(',')}]}` });
    return out;
  };

  const publish = async (m: { topic: string; payload: string }): Promise<void> => {
    const wait = lastPublishAt + gapMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    lastPublishAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.publishAsync(m.topic, m.payload, { qos: 1 }),
        new Promise(
          (_, reject) =>
            (timer = setTimeout(() => reject(new Error(`no PUBACK within ${ackTimeoutMs} ms`)), ackTimeoutMs)),
        ),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  const flushNow = async (): Promise<void> => {
    if (pending.length > 0) {
      spool.push(pending);
      pending = [];
    }
    // Only while connected: mqtt.js would otherwise hold every publish in memory until the broker is back.
    while (spool.size > 0 && client.connected) {
      const batches = spool.peekMany(MAX_READINGS_PER_MESSAGE);
      const lines = batches.flatMap((b) => b.lines);
      try {
        // Published one after another: the broker keeps their order per topic, and so the engine sees each meter's
        // readings in order.
        for (const m of messagesOf(lines)) {
          await publish(m);
          messages++;
        }
      } catch (err) {
        failures++;
        lastError = (err as Error).message;
        o.log?.warn(
          { err: lastError, spooled: spool.lines },
          'mqtt publish not acknowledged; readings stay in the spool',
        );
        return;
      }
      for (const b of batches) spool.ack(b.name);
      published += lines.length;
    }
  };
  let chain: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => (chain = chain.then(flushNow, flushNow));
  // A background flush has no caller to fail to (the spool's disk can): it is logged, and the next one tries again.
  const flushInBackground = (): void =>
    void flush().catch((err: Error) => o.log?.warn({ err: err.message }, 'mqtt flush failed'));
  const timer = setInterval(flushInBackground, o.flushIntervalMs ?? 1000);
  timer.unref();

  return {
    name: 'mqtt',
    signedOnly: true,
    write(readings: ReadingEvent[]) {
      if (closing) return;
      for (const r of readings) pending.push(JSON.stringify(r));
      o.log?.debug?.({ signed: readings.map((r) => [r.meterId, r.ts]) }, 'signed readings for mqtt');
    },
    flush,
    stats: () => ({ published, messages, spooled: spool.lines, failures, lastError }),
    async close() {
      clearInterval(timer);
      closing = true;
      // What was recorded is on disk once flushNow began; a broker that does not answer only delays the exit, bounded.
      await Promise.race([flush(), new Promise((r) => setTimeout(r, 2000).unref())]);
      if (pending.length > 0) {
        spool.push(pending);
        pending = [];
      }
      await client.endAsync(true);
    },
  };
}
