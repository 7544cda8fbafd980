import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { demoConfig } from '../../core/config/demo.js';
import { validateConfig } from '../../core/config/validate.js';
import type { Config } from '../../core/config/schema.js';

export interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
  /** Wall ms it arrived. */
  at: number;
}

export interface Watcher {
  client: MqttClient;
  seen: Seen[];
  /** The newest message on `topic` matching `pred`, waiting up to `ms` for one. */
  waitFor(pred: (m: Seen) => boolean, ms?: number, what?: string): Promise<Seen>;
  /** The newest retained-or-live payload of each topic. */
  latest(): Map<string, string>;
  end(): Promise<void>;
}

/** A plain subscriber (as Home Assistant or any consumer is) recording every message under `filters`. */
export async function watch(url: string, filters: string[]): Promise<Watcher> {
  const client = await mqtt.connectAsync(url, {
    reconnectPeriod: 0,
    clientId: `watch-${Math.random().toString(16).slice(2)}`,
  });
  const seen: Seen[] = [];
  client.on('message', (topic, payload, packet) =>
    seen.push({ topic, payload: payload.toString(), retain: packet.retain, at: Date.now() }),
  );
  await client.subscribeAsync(filters, { qos: 1 });
  return {
    client,
    seen,
    async waitFor(pred, ms = 20_000, what = 'a message') {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = seen.findLast(pred);
        if (hit) return hit;
        if (Date.now() > deadline)
          throw new Error(
            `no ${what} within ${ms} ms; seen topics: ${[...new Set(seen.map((s) => s.topic))].join(', ')}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    latest() {
      const m = new Map<string, string>();
      for (const s of seen) m.set(s.topic, s.payload);
      for (const [k, v] of m) if (v === '') m.delete(k);
      return m;
    },
    end: () => client.endAsync(),
  };
}

/**
 * What the broker retains under `filters`, as a subscriber starting now receives it: the burst that
 * follows the SUBACK, ended by a marker this client publishes to itself afterwards (one client's
 * messages arrive in order), so no fixed wait guesses when the burst is over.
 */
export async function retainedNow(url: string, filters: string[]): Promise<Map<string, string>> {
  const marker = `test/marker/${Math.random().toString(16).slice(2)}`;
  const w = await watch(url, [...filters, marker]);
  try {
    await w.client.publishAsync(marker, 'end', { qos: 1 });
    await w.waitFor((m) => m.topic === marker, 10_000, 'the marker after the retained burst');
    const out = new Map<string, string>();
    for (const m of w.seen) if (m.retain && m.payload !== '') out.set(m.topic, m.payload);
    return out;
  } finally {
    await w.end();
  }
}

/** Polls `f` until it returns something other than undefined, or fails after `ms`. */
export async function until<T>(f: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const OPERATOR_TOKEN = 'operator-token-for-the-mqtt-tests-0123456789';
export const silent = pino({ level: 'silent' });

/** The demo microgrid of `n` households publishing `households` to the broker, with an operator token. */
export function demoWithMqtt(
  url: string,
  n: number,
  households: string[] | 'all',
  extra: Partial<{ discovery: boolean }> = {},
): Config {
  const demo = structuredClone(demoConfig(n));
  return validateConfig({
    ...demo,
    mqtt: { url, households, ...extra },
    auth: { tokens: [{ token: { env: 'MGX_TEST_OPERATOR' }, role: 'operator' }] },
  });
}

export const testEnv = { ...process.env, MGX_TEST_OPERATOR: OPERATOR_TOKEN };

export async function api<T>(base: string, path: string): Promise<T> {
  const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}
