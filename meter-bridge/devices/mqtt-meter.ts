import type { SecretRef } from '../../core/config/schema.js';
import type { Measurement } from './measurement.js';
import {
  parseShellyEm,
  parseShellyEmData,
  parseShellyOnline,
  shellyTopics,
  EM_FRESH_MS,
  type ShellyPower,
} from './shelly-gen2.js';
import { parseTasmotaLwt, parseTasmotaSensor, tasmotaTopics, type TasmotaTotal } from './tasmota.js';

/** Where an MQTT meter publishes: its broker and its own topic (Tasmota %topic%, a Shelly's topic prefix). */
export interface MqttSpec {
  type: 'mqtt';
  url: string;
  topic: string;
  username?: string;
  password?: SecretRef;
}

/** What one message of a device's topics means. */
export type PushEvent =
  { type: 'measurement'; measurement: Measurement } | { type: 'availability'; online: boolean } | { type: 'none' };

/**
 * Turns one MQTT meter's messages into the bridge's measurements. Pure but
 * for the last em:0 it keeps (Shelly): the bridge owns the connection and
 * feeds `handle`. Throws METER_PAYLOAD_INVALID for a message it refuses.
 */
export interface PushMeter {
  readonly deviceId: string;
  readonly meterId: string;
  /** The exact topics to subscribe to. */
  readonly topics: readonly string[];
  handle(topic: string, payload: Buffer, now: number): PushEvent;
  describe(): Record<string, unknown>;
}

export interface PushMeterOptions {
  deviceId: string;
  kind: 'tasmota' | 'shelly-gen2';
  topic: string;
  meterId: string;
  /**
   * A pv meter measures production: what the device counts as drawn is what the site exports, so the directions swap.
   */
  role: 'grid' | 'pv';
  tasmotaTotal?: TasmotaTotal;
}

/**
 * Power sign in the bridge: + import, − export, at the meter. A grid meter's
 * counters are as the device says; a device metering a PV inverter (a plug
 * in front of a balcony inverter) counts the inverter's output as its
 * "import": for role pv that is export, and its power is production (−).
 */
function oriented(
  m: Omit<Measurement, 'meterId' | 'counterWrapWh'>,
  meterId: string,
  role: 'grid' | 'pv',
): Measurement {
  if (role === 'grid') return { ...m, meterId, counterWrapWh: null };
  return {
    ...m,
    meterId,
    powerW: m.powerW === null ? null : -m.powerW || 0,
    importWh: m.exportWh,
    exportWh: m.importWh,
    counterWrapWh: null,
  };
}

export function createPushMeter(o: PushMeterOptions): PushMeter {
  if (o.kind === 'tasmota') {
    const t = tasmotaTopics(o.topic);
    const total = o.tasmotaTotal ?? 'import';
    return {
      deviceId: o.deviceId,
      meterId: o.meterId,
      topics: [t.sensor, t.lwt],
      handle(topic, payload) {
        if (topic === t.lwt) return { type: 'availability', online: parseTasmotaLwt(payload) };
        if (topic !== t.sensor) return { type: 'none' };
        const e = parseTasmotaSensor(payload, total);
        return { type: 'measurement', measurement: oriented(e, o.meterId, o.role) };
      },
      describe: () => ({
        kind: 'tasmota',
        topics: [t.sensor, t.lwt],
        meterId: o.meterId,
        role: o.role,
        tasmotaTotal: total,
      }),
    };
  }
  const t = shellyTopics(o.topic);
  let last: (ShellyPower & { at: number }) | null = null;
  return {
    deviceId: o.deviceId,
    meterId: o.meterId,
    topics: [t.em, t.emdata, t.online],
    handle(topic, payload, now) {
      if (topic === t.online) return { type: 'availability', online: parseShellyOnline(payload) };
      if (topic === t.em) {
        last = { ...parseShellyEm(payload), at: now };
        return { type: 'none' };
      }
      if (topic !== t.emdata) return { type: 'none' };
      const c = parseShellyEmData(payload);
      const fresh = last !== null && now - last.at <= EM_FRESH_MS && now >= last.at ? last : null;
      const m = {
        powerW: fresh?.powerW ?? null,
        voltageV: fresh?.voltageV ?? null,
        frequencyHz: fresh?.frequencyHz ?? null,
        importWh: c.importWh,
        exportWh: c.exportWh,
      };
      return { type: 'measurement', measurement: oriented(m, o.meterId, o.role) };
    },
    describe: () => ({ kind: 'shelly-gen2', topics: [t.em, t.emdata, t.online], meterId: o.meterId, role: o.role }),
  };
}
