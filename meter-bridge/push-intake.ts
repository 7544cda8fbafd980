import type { BridgeContext } from './bridge-context.js';
import type { PushRuntime } from './device-runtime.js';
import { emitHealth } from './health-report.js';
import type { Ingest } from './ingest.js';
import type { MqttPool } from './transport/mqtt-pool.js';

/**
 * Subscribes every MQTT meter (`index`: its place in bridge.devices, for the
 * password's config path) and takes its messages: availability into health,
 * measurements into ingest, at most one per `pollMs` of market time.
 */
export function subscribePushMeters(
  ctx: BridgeContext,
  meters: readonly { rt: PushRuntime; index: number }[],
  mqttPool: MqttPool,
  ingest: Ingest,
  pollMs: number,
): void {
  const receive = async (rt: PushRuntime, topic: string, payload: Buffer): Promise<void> => {
    const ts = ctx.clock.now();
    const at = new Date(ts).toISOString();
    let ev;
    try {
      ev = rt.push.handle(topic, payload, ts);
    } catch (err) {
      // One bad message: logged with device, topic, field and value, counted, no reading; the next one is taken.
      rt.health.rejected(at, err);
      const n = rt.health.snapshot.rejectedMessages;
      const e = err as { message?: string; field?: string; value?: unknown };
      // A device that sends garbage every second must not flood the log: the first ten, then every hundredth.
      if (n <= 10 || n % 100 === 0)
        ctx.log?.warn(
          { device: rt.device.id, topic, field: e.field, value: e.value, rejected: n },
          `device ${rt.device.id}: message on ${topic} refused: ${e.message ?? String(err)}`,
        );
      return;
    }
    if (ev.type === 'availability') {
      if (rt.health.availability(at, ev.online, ev.online ? null : `the device said offline on ${topic}`)) {
        emitHealth(ctx, rt);
        ctx.log?.info(
          { device: rt.device.id, topic },
          `device ${rt.device.id} ${rt.health.snapshot.status} (${topic})`,
        );
      }
      return;
    }
    if (ev.type !== 'measurement') return;
    // A device publishing faster than the poll period (a flood, or a status notification per change) is taken at most
    // once per poll period of market time, as a polled device is read: each suspect reading costs a signature.
    if (rt.lastPushTs !== null && ts >= rt.lastPushTs && ts - rt.lastPushTs < pollMs) {
      rt.health.dropped();
      return;
    }
    rt.lastPushTs = ts;
    if (rt.health.success(at, 0, 0)) emitHealth(ctx, rt);
    await ingest(rt, [ev.measurement], ts);
  };

  // Messages of one device are taken in order: a reading waits for the one before it (its guard state, its signature).
  const chains = new Map<PushRuntime, Promise<void>>();
  const onMessage = (rt: PushRuntime, topic: string, payload: Buffer): void => {
    const prev = chains.get(rt) ?? Promise.resolve();
    // A failure of one message (a sink, signing) must not stop the chain: the next message is still taken.
    const next = prev
      .catch(() => {})
      .then(() => (ctx.stopped ? undefined : receive(rt, topic, payload)))
      .catch((err: unknown) =>
        ctx.log?.error({ err, device: rt.device.id, topic }, `device ${rt.device.id}: message on ${topic} failed`),
      );
    chains.set(rt, next);
    // eslint-disable-next-line @typescript-eslint/no-floating-promises -- next ends in .catch: it does not reject
    void ctx.inflight.track(next);
  };

  for (const { rt, index } of meters) {
    if (rt.device.transport.type !== 'mqtt') continue;
    mqttPool.subscribe(
      rt.device.transport,
      rt.push.topics,
      (topic, payload) => onMessage(rt, topic, payload),
      (up, reason) => {
        if (up || ctx.stopped) return;
        if (rt.health.unreachable(new Date(ctx.clock.now()).toISOString(), reason ?? 'broker unreachable')) {
          emitHealth(ctx, rt);
          ctx.log?.warn(
            { device: rt.device.id, err: reason },
            `device ${rt.device.id} ${rt.health.snapshot.status}: ${reason}`,
          );
        }
      },
      `bridge.devices[${index}].transport.password`,
    );
  }
}
