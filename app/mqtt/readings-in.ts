import type { Clock } from '../../core/clock.js';
import type { EventBus } from '../../core/events.js';
import { MicrogridError } from '../../core/errors.js';
import type { Metrics } from '../../core/metrics.js';
import { METRICS } from '../../core/metric-names.js';
import { meterOfReadingsTopic, microgridTopic, readingsFilter } from '../../core/mqtt-topics.js';
import type { Ledger } from '../../ledger/ledger.js';
import { gatewayRateLimited, parseReadingsBody, takeReadings } from '../../dashboard/readings-intake.js';
import type { Logger } from '../logger.js';
import type { EngineMqtt } from './connection.js';

/** Why a message was dropped: the label of `mgx_mqtt_messages_rejected_total`. */
export type RejectReason = 'size' | 'json' | 'schema' | 'topic' | 'signature' | 'rate' | 'internal';

export interface ReadingsInOptions {
  mqtt: EngineMqtt;
  ledger: Ledger;
  clock: Clock;
  bus?: EventBus;
  metrics?: Metrics;
  log: Logger;
  /** Messages per gateway per minute (`server.rateLimit.readingsPerMinute`, as for POST /api/readings). */
  messagesPerMinute: number;
  /** Largest payload taken (`server.bodyLimitBytes`, as for POST /api/readings). */
  maxMessageBytes: number;
  /** Wall time for the rate limit (default Date.now): limits are real time, not market time. */
  wallNow?: () => number;
}

export interface ReadingsIn {
  stats(): { accepted: number; duplicates: number; rejected: Partial<Record<RejectReason, number>> };
  stop(): Promise<void>;
}

const REASON_OF_CODE: Record<string, RejectReason> = {
  INVALID_INPUT: 'schema',
  READING_SIGNATURE: 'signature',
  RATE_LIMITED: 'rate',
  INVALID_TIME: 'schema',
};

/**
 * Readings in over MQTT: the engine subscribes `<prefix>/<microgrid>/readings/+`
 * at QoS 1 and takes each message through `takeReadings`, the path of
 * `POST /api/readings`. The payload is that route's body (`{ readings: [...] }`)
 * or one signed reading; the topic's meter id must be every reading's.
 * Messages are taken one at a time in arrival order (MQTT keeps order per
 * publisher and topic, so per meter) and acknowledged only once stored, so a
 * message the engine did not store is sent again. A bad message is logged
 * with its topic and reason, counted, and dropped; it never stops the next.
 */
export async function startReadingsIn(o: ReadingsInOptions): Promise<ReadingsIn> {
  const { mqtt, log } = o;
  const wallNow = o.wallNow ?? Date.now;
  const filter = readingsFilter(mqtt.topics);
  let accepted = 0;
  let duplicates = 0;
  const rejected: Partial<Record<RejectReason, number>> = {};
  // A fixed one-minute window per gateway, like @fastify/rate-limit's default store.
  const windows = new Map<string, { start: number; count: number }>();

  const reject = (topic: string, reason: RejectReason, message: string): void => {
    rejected[reason] = (rejected[reason] ?? 0) + 1;
    o.metrics?.inc(METRICS.mqttRejected, { reason });
    log.warn({ topic, reason, err: message }, `mqtt readings message on ${topic} dropped (${reason}): ${message}`);
  };

  const limit = (gateway: string): MicrogridError | undefined => {
    const now = wallNow();
    let w = windows.get(gateway);
    if (!w || now - w.start >= 60_000) windows.set(gateway, (w = { start: now, count: 0 }));
    if (windows.size > 10_000) for (const [g, x] of windows) if (now - x.start >= 60_000) windows.delete(g);
    w.count++;
    return w.count > o.messagesPerMinute
      ? gatewayRateLimited(gateway, o.messagesPerMinute, w.start + 60_000 - now)
      : undefined;
  };

  const ownReadings = `${microgridTopic(mqtt.topics)}/readings/`;
  const take = async (topic: string, payload: Buffer): Promise<void> => {
    const meterId = meterOfReadingsTopic(mqtt.topics, topic);
    if (meterId === null) {
      // `readings/+` also matches an empty meter level; any other topic is another handler's on the shared connection.
      if (topic.startsWith(ownReadings)) reject(topic, 'topic', 'the topic names no meter');
      return;
    }
    if (payload.length > o.maxMessageBytes)
      return reject(topic, 'size', `${payload.length} bytes; at most ${o.maxMessageBytes} (server.bodyLimitBytes)`);
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      return reject(topic, 'json', `not JSON: ${(err as Error).message}`);
    }
    try {
      const readings = parseReadingsBody(body, 'payload');
      const other = readings.findIndex((r) => r.meterId !== meterId);
      if (other >= 0)
        return reject(
          topic,
          'topic',
          `payload.readings[${other}].meterId is "${readings[other]!.meterId.slice(0, 64)}"; the topic is meter "${meterId}"`,
        );
      const r = await takeReadings(o, readings, { fieldOf: (i) => `payload.readings[${i}]`, limit });
      accepted += r.accepted;
      duplicates += r.duplicates;
      if (r.accepted > 0) o.metrics?.inc(METRICS.mqttAccepted, {}, r.accepted);
      if (r.duplicates > 0) o.metrics?.inc(METRICS.mqttDuplicate, {}, r.duplicates);
    } catch (err) {
      if (err instanceof MicrogridError && REASON_OF_CODE[err.code])
        return reject(topic, REASON_OF_CODE[err.code]!, err.message);
      // Not the message's fault (the ledger is closing, the disk is full): said loudly, still dropped so one message
      // cannot wedge the queue.
      log.error({ topic, err }, `mqtt readings message on ${topic} could not be stored`);
      return reject(topic, 'internal', (err as Error).message);
    }
  };

  mqtt.handle(take);
  await mqtt.client.subscribeAsync(filter, { qos: 1 });
  log.info({ filter }, `mqtt: taking readings from ${filter}`);
  return {
    stats: () => ({ accepted, duplicates, rejected: { ...rejected } }),
    // Nothing to undo: no unsubscribe, since the persistent session keeps the subscription, so readings
    // published while the engine is away wait in the broker. Intake ends when the connection closes,
    // and app/start.ts closes the ledger only after it (holding a message unacked here instead would
    // block the connection's own "offline" PUBACK behind it).
    stop: async () => {},
  };
}
