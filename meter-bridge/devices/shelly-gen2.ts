import { roundOrNull } from './measurement.js';
import { BOUNDS, numberAt, optionalNumberAt, parseJsonObject, payloadError } from './payload.js';

/**
 * Shelly Gen2 three-phase meters (Pro 3EM, 3EM Gen3) over MQTT, with
 * "Generic status update over MQTT" on: the device publishes each
 * component's status (the object EM.GetStatus / EMData.GetStatus return) to
 * `<topic>/status/<component>`, and `true` / `false` on `<topic>/online`
 * (retained; `false` is its last will).
 *
 * - `em:0` (EM.GetStatus): `total_act_power` W, the sum of the phases'
 *   `a_act_power`…, negative when the site returns energy; `a_voltage` V,
 *   `a_freq` Hz (phase A).
 * - `emdata:0` (EMData.GetStatus): `total_act` Wh, active energy drawn over
 *   all phases; `total_act_ret` Wh, returned. Floats with two decimals.
 *
 * The counters come in emdata:0 and the power in em:0, in separate messages:
 * a reading is made when emdata:0 arrives, with the power, voltage and
 * frequency of the last em:0 if it is at most `EM_FRESH_MS` old (else
 * those are null). The reading's time is the receipt time on the bridge's
 * market clock (emdata's status carries no time).
 */

export const SHELLY_EM = 'shelly-gen2 em:0';
export const SHELLY_EMDATA = 'shelly-gen2 emdata:0';

/** An em:0 older than this (market time) is not paired with a counter reading. */
export const EM_FRESH_MS = 60_000;

export const shellyTopics = (topic: string): { em: string; emdata: string; online: string } => ({
  em: `${topic}/status/em:0`,
  emdata: `${topic}/status/emdata:0`,
  online: `${topic}/online`,
});

export interface ShellyPower {
  powerW: number;
  voltageV: number | null;
  frequencyHz: number | null;
}

export interface ShellyCounters {
  importWh: number;
  exportWh: number;
}

const WH = { min: 0, max: BOUNDS.counterWh, unit: 'Wh ≥ 0' };

export function parseShellyEm(payload: Buffer | string): ShellyPower {
  const o = parseJsonObject(SHELLY_EM, payload);
  const powerW = numberAt(SHELLY_EM, o, 'total_act_power', 'total_act_power', {
    min: -BOUNDS.powerW,
    max: BOUNDS.powerW,
    unit: 'W',
  });
  return {
    powerW: roundOrNull(powerW) ?? 0,
    voltageV: optionalNumberAt(SHELLY_EM, o, 'a_voltage', 'a_voltage', { min: 0, max: BOUNDS.voltageV, unit: 'V' }),
    frequencyHz: optionalNumberAt(SHELLY_EM, o, 'a_freq', 'a_freq', { min: 0, max: BOUNDS.frequencyHz, unit: 'Hz' }),
  };
}

export function parseShellyEmData(payload: Buffer | string): ShellyCounters {
  const o = parseJsonObject(SHELLY_EMDATA, payload);
  // Wh with two decimals: floored to whole Wh, as every counter is.
  return {
    importWh: Math.floor(numberAt(SHELLY_EMDATA, o, 'total_act', 'total_act', WH)),
    exportWh: Math.floor(numberAt(SHELLY_EMDATA, o, 'total_act_ret', 'total_act_ret', WH)),
  };
}

/** `true` / `false`. */
export function parseShellyOnline(payload: Buffer | string): boolean {
  const text = (typeof payload === 'string' ? payload : payload.toString('utf8')).trim();
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw payloadError('shelly-gen2 online', '(payload)', text.slice(0, 40), '"true" or "false"');
}
