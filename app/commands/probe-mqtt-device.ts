import mqtt from 'mqtt';
import { resolveSecret } from '../../core/config/secrets.js';
import type { BridgeDevice } from '../../meter-bridge/bridge-device.js';
import { createPushMeter, type MqttSpec } from '../../meter-bridge/devices/mqtt-meter.js';
import type { ProbeResult } from './probe-device.js';

export interface MqttProbeResult extends ProbeResult {
  /** ok and a telemetry message parsed; warn: the broker answered but only availability (or nothing yet) came. */
  status: 'ok' | 'warn' | 'fail';
}

/**
 * `mgx doctor` for an MQTT meter: connects to its broker as the bridge would,
 * subscribes to its topics and waits up to `waitMs` for a message, parsing
 * it with the bridge's own parser. The retained availability (Tasmota LWT,
 * Shelly online) arrives at once; telemetry only every TelePeriod, so
 * availability alone is a warning, not a failure.
 */
export async function probeMqttDevice(
  d: BridgeDevice,
  passwordField: string,
  env: NodeJS.ProcessEnv,
  waitMs = 10_000,
): Promise<MqttProbeResult> {
  const spec = d.transport as MqttSpec;
  if (d.kind !== 'tasmota' && d.kind !== 'shelly-gen2')
    return { ok: false, status: 'fail', detail: `kind ${d.kind} is not an MQTT kind` };
  const meter = createPushMeter({
    deviceId: d.id,
    kind: d.kind,
    topic: spec.topic,
    meterId: d.meterId ?? d.id,
    role: d.role ?? 'grid',
    ...(d.tasmotaTotal ? { tasmotaTotal: d.tasmotaTotal } : {}),
  });
  const where = `${spec.url} ${meter.topics.join(', ')}`;
  let password: string | undefined;
  try {
    password = spec.password ? resolveSecret(spec.password, passwordField, env) : undefined;
  } catch (err) {
    return { ok: false, status: 'fail', detail: (err as Error).message };
  }
  const client = mqtt.connect(spec.url, {
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: Math.min(waitMs, 5000),
    protocolVersion: 4,
    ...(spec.username ? { username: spec.username } : {}),
    ...(password !== undefined ? { password } : {}),
  });
  try {
    const connected = await new Promise<string | null>((resolve) => {
      const t = setTimeout(
        () => resolve(`no answer within ${Math.min(waitMs, 5000)} ms`),
        Math.min(waitMs, 5000) + 100,
      );
      client.once('connect', () => (clearTimeout(t), resolve(null)));
      client.once('error', (e) => (clearTimeout(t), resolve(e.message)));
    });
    if (connected)
      return {
        ok: false,
        status: 'fail',
        detail: `broker ${spec.url}: ${connected} — check transport.url (or mqtt.url), username and password`,
      };
    let availability: string | null = null;
    const telemetry = await new Promise<string | null>((resolve) => {
      const t = setTimeout(() => resolve(null), waitMs);
      client.on('message', (topic, payload) => {
        try {
          const ev = meter.handle(topic, payload, Date.now());
          if (ev.type === 'availability') {
            availability = `${topic} says ${ev.online ? 'online' : 'offline'}`;
            // A device that says it is offline sends nothing more: no need to wait.
            if (!ev.online) {
              clearTimeout(t);
              resolve(null);
            }
          }
          if (ev.type === 'measurement') {
            const m = ev.measurement;
            clearTimeout(t);
            resolve(
              `${topic}: power ${m.powerW ?? 'n/a'} W, import ${m.importWh ?? 'n/a'} Wh, export ${m.exportWh ?? 'n/a'} Wh`,
            );
          }
        } catch (err) {
          clearTimeout(t);
          resolve(`refused: ${(err as Error).message}`);
        }
      });
      void client.subscribeAsync([...meter.topics], { qos: 0 }).catch(() => {});
    });
    if (telemetry?.startsWith('refused')) return { ok: false, status: 'fail', detail: `${where}: ${telemetry}` };
    if (telemetry) return { ok: true, status: 'ok', detail: `${telemetry}${availability ? `; ${availability}` : ''}` };
    if (availability !== null && (availability as string).endsWith('offline')) {
      return {
        ok: false,
        status: 'fail',
        detail: `${spec.url}: ${availability as string}: the device is not connected to its broker (power, Wi-Fi, or its MQTT settings)`,
      };
    }
    return {
      ok: true,
      status: 'warn',
      detail: `waited ${waitMs} ms for a message on ${meter.topics.join(', ')} at ${spec.url}: ${availability ?? 'nothing arrived'}${d.kind === 'tasmota' ? ' (telemetry comes every TelePeriod: set TelePeriod 10…30)' : ' (turn on "Generic status update over MQTT")'}`,
    };
  } finally {
    await client.endAsync(true).catch(() => {});
  }
}
