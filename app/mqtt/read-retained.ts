import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';

export interface ReadRetainedReturnType {
  /** Topic → payload of every non-empty retained message under the filters. */
  retained: Map<string, Buffer>;
  /** false when the end marker did not come back in time (what arrived until then is in `retained`). */
  complete: boolean;
}

/**
 * Reads what the broker retains under `filters`. MQTT has no "end of retained
 * messages", so the same SUBSCRIBE also takes a marker topic, and a marker is
 * published once the SUBACK is in: the broker queues a subscription's retained
 * messages before it answers, and delivers one client's messages in order, so
 * the marker comes after the last of them (mosquitto does; the timeout covers
 * a broker that does not). The subscriptions end again afterwards.
 */
export async function readRetained(
  client: MqttClient,
  filters: readonly string[],
  markerBase: string,
  timeoutMs = 5000,
): Promise<ReadRetainedReturnType> {
  const marker = `${markerBase}/${randomBytes(6).toString('hex')}`;
  const retained = new Map<string, Buffer>();
  let done!: (complete: boolean) => void;
  const finished = new Promise<boolean>((resolve) => (done = resolve));
  const onMessage = (topic: string, payload: Buffer, packet: { retain?: boolean }) => {
    if (topic === marker) return done(true);
    if (!packet.retain || !filters.some((f) => matches(f, topic))) return;
    if (payload.length === 0) retained.delete(topic);
    else retained.set(topic, payload);
  };
  client.on('message', onMessage);
  const timer = setTimeout(() => done(false), timeoutMs);
  try {
    await client.subscribeAsync([...filters, marker], { qos: 1 });
    await client.publishAsync(marker, '', { qos: 1, retain: false });
    const complete = await finished;
    return { retained, complete };
  } finally {
    clearTimeout(timer);
    client.removeListener('message', onMessage);
    await client.unsubscribeAsync([...filters, marker]).catch(() => {});
  }
}

/** MQTT topic filter matching ("+" one level, "#" the rest). */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
