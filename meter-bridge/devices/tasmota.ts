import { roundOrNull } from './measurement.js';
import { BOUNDS, kWhToWh, objectAt, parseJsonObject, payloadError, phasesAt } from './payload.js';

/**
 * Tasmota's energy telemetry (xdrv_03_energy): every TelePeriod it publishes
 * `tele/<topic>/SENSOR` with an `ENERGY` object —
 * `{"Time":"2026-06-21T10:00:00","ENERGY":{"TotalStartTime":"…","Total":1234.567,"Yesterday":…,"Today":…,
 * ["ExportActive":…,]
 * "Power":850,["ApparentPower","ReactivePower","Factor",]["Frequency":50,]"Voltage":231,"Current":3.7}}`
 * and `tele/<topic>/LWT` `Online` / `Offline` (retained; the broker sends
 * `Offline` as the device's last will when it drops off).
 *
 * Units: Total, ExportActive kWh; Power W (negative on chips that see export);
 * Voltage V; Frequency Hz. On a multi-phase device Power, Voltage, Frequency
 * and ExportActive are arrays, one per phase, and Total is too with
 * SetOption129 1. We sum Power and the counters over phases, and take
 * Voltage and Frequency of the first phase (L1), as the SunSpec path reads
 * PhVphA.
 *
 * `Time` is the device's local time without a zone (and wrong until its NTP
 * sync): it is not used. The reading's time is when the bridge received the
 * message, on the bridge's market clock, as for a Modbus poll.
 */

export const TASMOTA = 'tasmota SENSOR';

export const tasmotaTopics = (topic: string): { sensor: string; lwt: string } => ({
  sensor: `tele/${topic}/SENSOR`,
  lwt: `tele/${topic}/LWT`,
});

/** What ENERGY.Total counts: the meter's import counter, or (chips that meter both ways) import − export. */
export type TasmotaTotal = 'import' | 'net';

export interface TasmotaEnergy {
  powerW: number | null;
  importWh: number;
  exportWh: number | null;
  voltageV: number | null;
  frequencyHz: number | null;
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const KWH = { min: 0, max: BOUNDS.counterWh / 1000, unit: 'kWh ≥ 0' };

export function parseTasmotaSensor(payload: Buffer | string, total: TasmotaTotal = 'import'): TasmotaEnergy {
  const msg = parseJsonObject(TASMOTA, payload);
  if (msg.ENERGY === undefined)
    throw payloadError(
      TASMOTA,
      'ENERGY',
      undefined,
      'an ENERGY object (the device has no energy monitor, or it is not configured)',
    );
  const e = objectAt(TASMOTA, msg, 'ENERGY', 'ENERGY');
  // A net Total (import − export) goes below 0 on a phase that exported more than it ever imported.
  const totals = phasesAt(
    TASMOTA,
    e,
    'Total',
    'ENERGY.Total',
    total === 'net' ? { ...KWH, min: -KWH.max, unit: 'kWh' } : KWH,
  );
  if (totals === null) throw payloadError(TASMOTA, 'ENERGY.Total', undefined, 'the lifetime energy in kWh');
  const exports = phasesAt(TASMOTA, e, 'ExportActive', 'ENERGY.ExportActive', KWH);
  const power = phasesAt(TASMOTA, e, 'Power', 'ENERGY.Power', { min: -BOUNDS.powerW, max: BOUNDS.powerW, unit: 'W' });
  const voltage = phasesAt(TASMOTA, e, 'Voltage', 'ENERGY.Voltage', { min: 0, max: BOUNDS.voltageV, unit: 'V' });
  const frequency = phasesAt(TASMOTA, e, 'Frequency', 'ENERGY.Frequency', {
    min: 0,
    max: BOUNDS.frequencyHz,
    unit: 'Hz',
  });
  const exportWh = exports === null ? null : kWhToWh(sum(exports));
  let importWh = total === 'net' ? 0 : kWhToWh(sum(totals));
  if (total === 'net') {
    if (exportWh === null)
      throw payloadError(
        TASMOTA,
        'ENERGY.ExportActive',
        undefined,
        'the export counter in kWh (tasmotaTotal: net needs it: import = Total + ExportActive)',
      );
    importWh = kWhToWh(sum(totals) + sum(exports!));
    if (importWh < 0)
      throw payloadError(
        TASMOTA,
        'ENERGY.Total',
        sum(totals),
        `a net total ≥ −ExportActive (${sum(exports!)} kWh): import = Total + ExportActive cannot be negative`,
      );
  }
  return {
    powerW: power === null ? null : roundOrNull(sum(power)),
    importWh,
    exportWh,
    voltageV: voltage === null ? null : voltage[0]!,
    frequencyHz: frequency === null ? null : frequency[0]!,
  };
}

/** `Online` / `Offline` (Tasmota's own words; anything else is refused). */
export function parseTasmotaLwt(payload: Buffer | string): boolean {
  const text = (typeof payload === 'string' ? payload : payload.toString('utf8')).trim();
  if (text === 'Online') return true;
  if (text === 'Offline') return false;
  throw payloadError('tasmota LWT', '(payload)', text.slice(0, 40), '"Online" or "Offline"');
}
