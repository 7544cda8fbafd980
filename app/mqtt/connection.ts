import mqtt, { type MqttClient } from 'mqtt';
import type { Config } from '../../core/config/schema.js';
import { resolveSecret } from '../../core/config/secrets.js';
import { MicrogridError } from '../../core/errors.js';
import { availabilityTopic, microgridTopic, OFFLINE, ONLINE, type TopicBase } from '../../core/mqtt-topics.js';
import type { Logger } from '../logger.js';

export interface EngineMqtt {
  client: MqttClient;
  topics: TopicBase;
  /**
   * Adds a handler of every message the broker delivers (each handler in turn,
   * one message at a time in arrival order; a handler ignores topics not its
   * own). A QoS 1 message is acknowledged only when every handler has settled (so the broker
   * redelivers what a crashed engine had not stored). Messages that arrive
   * before the first handler is set wait for it (a persistent session's queue is
   * delivered right after the connect, before anyone could subscribe).
   */
  handle(fn: (topic: string, payload: Buffer) => Promise<void>): void;
  /** Publishes "offline" (retained), then disconnects, delivering what is in flight. */
  close(): Promise<void>;
}

/**
 * The engine's one broker connection (`mqtt:` in microgrid.yaml), shared by
 * readings in, state out and Home Assistant discovery. A persistent session
 * (clean: false, a stable client id) so QoS 1 readings published while the
 * engine was away are delivered when it is back; the last will marks the
 * microgrid offline when the connection drops without a goodbye.
 * Resolves once connected; a refused login or an unreachable broker at start
 * is an error that names `mqtt.url` (after that, the client reconnects itself).
 */
export async function connectEngineMqtt(
  config: Config,
  env: NodeJS.ProcessEnv,
  log: Logger,
  connectTimeoutMs = 10_000,
): Promise<EngineMqtt> {
  const m = config.mqtt;
  if (!m)
    throw new MicrogridError('CONFIG_INVALID', 'no mqtt section', {
      field: 'mqtt',
      expected: 'an mqtt section with url',
    });
  const topics: TopicBase = { prefix: m.topicPrefix, microgrid: config.microgrid.id };
  const status = availabilityTopic(topics);
  const client = mqtt.connect(m.url, {
    clientId: m.clientId ?? `mgx-${config.microgrid.id}-engine`,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    connectTimeout: connectTimeoutMs,
    ...(m.username ? { username: m.username } : {}),
    ...(m.password ? { password: resolveSecret(m.password, 'mqtt.password', env) } : {}),
    will: { topic: status, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
  });
  const handlers: ((topic: string, payload: Buffer) => Promise<void>)[] = [];
  const readingsHead = `${microgridTopic(topics)}/readings/`;
  let waiting: (() => void) | undefined;
  // mqtt.js sends the PUBACK when this calls back, and takes the next message only then.
  client.handleMessage = (packet, callback) => {
    const run = (): void =>
      // eslint-disable-next-line @typescript-eslint/no-floating-promises -- each handler's rejection is caught inside; callback() does not throw
      void (async () => {
        for (const h of handlers)
          await h(packet.topic, packet.payload as Buffer).catch((err: Error) =>
            log.error({ err, topic: packet.topic }, 'mqtt message handler failed'),
          );
      })().then(() => callback());
    if (handlers.length > 0) run();
    // Only readings need a handler to be stored by; anything else (state out's read-back of retained
    // topics, which runs with or without readings in) passes at once instead of waiting for one.
    else if (packet.topic.startsWith(readingsHead)) waiting = run;
    else callback();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      client.once('connect', () => (clearTimeout(timer), resolve()));
      client.once('error', (err) => (clearTimeout(timer), reject(err)));
    });
  } catch (cause) {
    client.end(true);
    throw new MicrogridError(
      'MQTT_UNAVAILABLE',
      `cannot connect to the MQTT broker at ${m.url}: ${(cause as Error).message}`,
      {
        field: 'mqtt.url',
        value: m.url,
        expected: 'a reachable broker that accepts mqtt.username / mqtt.password',
        cause,
      },
    );
  }
  client.on('error', (err) => log.warn({ err: err.message }, `mqtt: ${err.message}`));
  client.on('offline', () => log.warn({ url: m.url }, 'mqtt broker unreachable; reconnecting'));
  client.on('connect', () => void client.publishAsync(status, ONLINE, { qos: 1, retain: true }).catch(() => {}));
  // Not awaited: its PUBACK would queue behind a persistent session's messages, which wait for `handle()` — after this
  // returns.
  void client
    .publishAsync(status, ONLINE, { qos: 1, retain: true })
    .catch((err: Error) => log.warn({ err: err.message }, 'mqtt: online status not published'));
  log.info({ url: m.url, topics: `${topics.prefix}/${topics.microgrid}/#` }, `mqtt connected to ${m.url}`);
  return {
    client,
    topics,
    handle: (fn) => {
      handlers.push(fn);
      const w = waiting;
      waiting = undefined;
      w?.();
    },
    close: async () => {
      if (client.connected) await client.publishAsync(status, OFFLINE, { qos: 1, retain: true }).catch(() => {});
      await client.endAsync();
    },
  };
}
