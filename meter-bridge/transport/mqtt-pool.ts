import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { resolveSecret } from '../../core/config/secrets.js';
import type { MqttSpec } from '../devices/mqtt-meter.js';

/** What the bridge accepts from the broker per packet; the parsers refuse payloads above 16 KiB themselves. */
export const MAX_PACKET_BYTES = 64 * 1024;

export type MessageHandler = (topic: string, payload: Buffer) => void;
/** Connected or not, with the reason when not. */
export type LinkHandler = (up: boolean, reason: string | null) => void;

interface Link {
  client: MqttClient;
  handlers: Map<string, MessageHandler[]>;
  links: LinkHandler[];
  up: boolean;
}

/**
 * One broker connection per (url, username), shared by every MQTT meter on
 * it, as `BusPool` shares one Modbus connection per host. Messages are
 * dispatched by exact topic. mqtt.js reconnects by itself (every second) and
 * re-subscribes; retained availability messages (Tasmota LWT, Shelly
 * online) arrive again on every subscribe, so a reconnect restores health.
 * Connecting never blocks the bridge: a broker that is down makes its
 * devices stale, not the bridge fail.
 */
export class MqttPool {
  readonly #links = new Map<string, Link>();
  readonly #env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.#env = env;
  }

  /** Subscribes `topics` on the spec's broker; `passwordField` names the config key in a SECRET_MISSING error. */
  subscribe(
    spec: MqttSpec,
    topics: readonly string[],
    onMessage: MessageHandler,
    onLink: LinkHandler,
    passwordField = 'transport.password',
  ): void {
    const key = `${spec.url}\u0000${spec.username ?? ''}`;
    let link = this.#links.get(key);
    if (!link) {
      const password = spec.password ? resolveSecret(spec.password, passwordField, this.#env) : undefined;
      const client = mqtt.connect(spec.url, {
        // Telemetry needs no session: what matters after a reconnect is the next message and the retained availability.
        clientId: `mgx-bridge-${randomBytes(6).toString('hex')}`,
        clean: true,
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
        // MQTT 5 for its Maximum Packet Size: the broker drops a larger message instead of sending it, so a
        // hostile 100 MB publish on a meter's topic never reaches this process (MQTT 3.1.1 has no such limit).
        protocolVersion: 5,
        properties: { maximumPacketSize: MAX_PACKET_BYTES },
        ...(spec.username ? { username: spec.username } : {}),
        ...(password !== undefined ? { password } : {}),
      });
      const l: Link = { client, handlers: new Map(), links: [], up: false };
      link = l;
      this.#links.set(key, l);
      const notify = (up: boolean, reason: string | null): void => {
        l.up = up;
        for (const h of l.links) h(up, reason);
      };
      client.on('connect', () => {
        if (!l.up) notify(true, null);
      });
      client.on('offline', () => {
        if (l.up) notify(false, `broker ${spec.url} unreachable`);
      });
      client.on('close', () => {
        if (l.up) notify(false, `connection to broker ${spec.url} closed`);
      });
      // A refused login (connack "Not authorized") is an error while never up: report it, with its words, every time.
      client.on('error', (err) => notify(false, `broker ${spec.url}: ${err.message}`));
      client.on('message', (topic, payload) => {
        for (const h of l.handlers.get(topic) ?? []) h(topic, payload);
      });
    }
    for (const t of topics) {
      const hs = link.handlers.get(t) ?? [];
      hs.push(onMessage);
      link.handlers.set(t, hs);
    }
    link.links.push(onLink);
    // Queued by mqtt.js until connected, and re-sent after every reconnect.
    link.client.subscribe([...topics], { qos: 1 }, () => {});
  }

  get size(): number {
    return this.#links.size;
  }

  async close(): Promise<void> {
    const links = [...this.#links.values()];
    this.#links.clear();
    for (const l of links) l.links.length = 0;
    await Promise.all(links.map((l) => l.client.endAsync(true).catch(() => {})));
  }
}
