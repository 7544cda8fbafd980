/**
 * Recorded payloads of the two MQTT meter kinds, written in their real
 * formats from the vendors' documentation (field names, order, units and the
 * way each firmware prints numbers), not captured from devices:
 *
 * - Tasmota `tele/<topic>/SENSOR`: the ENERGY object of xdrv_03_energy
 *   (TotalStartTime, Total kWh, Yesterday, Today, [TodaySumImport,
 *   TodaySumExport, ExportActive kWh when the meter reports export], Period,
 *   Power W, ApparentPower, ReactivePower, Factor, [Frequency], Voltage,
 *   Current); a multi-phase device prints per-phase arrays; Total with 3
 *   decimals (EnergyRes 3). `Time` is local time without a zone.
 * - Shelly Gen2 Pro 3EM `<id>/status/em:0` (EM.GetStatus) and
 *   `<id>/status/emdata:0` (EMData.GetStatus): per-phase a_/b_/c_ values,
 *   total_act_power W, total_act / total_act_ret Wh with two decimals.
 */

const kwh = (wh: number): string => (wh / 1000).toFixed(3);

export interface TasmotaSample {
  /** Lifetime import / export, Wh (printed as kWh with 3 decimals, as Tasmota does). */
  importWh: number;
  exportWh?: number;
  powerW: number;
  voltageV?: number;
  frequencyHz?: number;
  /** Local time as the device prints it. */
  time?: string;
}

/** A single-phase Tasmota energy monitor's SENSOR message (with ExportActive when given). */
export function tasmotaSensor(s: TasmotaSample): string {
  const voltage = s.voltageV ?? 231;
  const current = Math.abs(s.powerW) / voltage;
  const exp =
    s.exportWh === undefined ? '' : `"TodaySumImport":0.412,"TodaySumExport":0.318,"ExportActive":${kwh(s.exportWh)},`;
  const freq = s.frequencyHz === undefined ? '' : `"Frequency":${s.frequencyHz},`;
  return (
    `{"Time":"${s.time ?? '2026-06-21T12:00:00'}","ENERGY":{"TotalStartTime":"2025-03-01T09:12:44","Total":${kwh(s.importWh)},"Yesterday":3.210,"Today":1.234,${exp}` +
    `"Period":12,"Power":${s.powerW},"ApparentPower":${Math.round(Math.abs(s.powerW) * 1.06)},"ReactivePower":${Math.round(Math.abs(s.powerW) * 0.35)},"Factor":0.94,${freq}"Voltage":${voltage},"Current":${current.toFixed(3)}}}`
  );
}

/** A three-phase Tasmota meter (SetOption129 0: Total summed; Power, Voltage, ExportActive per phase). */
export const TASMOTA_3PHASE =
  '{"Time":"2026-06-21T12:00:00","ENERGY":{"TotalStartTime":"2025-03-01T09:12:44","Total":5321.004,"Yesterday":12.100,"Today":4.020,' +
  '"TodaySumImport":4.020,"TodaySumExport":1.500,"ExportActive":[0.120,0.230,3.650],"Period":[10,9,-30],"Power":[400,350,-1500],' +
  '"ApparentPower":[420,370,1510],"ReactivePower":[128,120,173],"Factor":[0.95,0.95,0.99],"Frequency":50.01,"Voltage":[230.1,231.0,229.8],"Current":[1.825,1.602,6.571]}}';

/** The Tasmota LWT (retained): "Online" / "Offline". */
export const TASMOTA_ONLINE = 'Online';
export const TASMOTA_OFFLINE = 'Offline';

const wh2 = (wh: number): string => wh.toFixed(2);

/** Shelly Pro 3EM em:0 with the phases' active power splitting `totalW` (negative: returned). */
export function shellyEm(totalW: number, voltageV = 230.4, freqHz = 50): string {
  const a = Math.round(totalW * 0.5 * 10) / 10;
  const b = Math.round(totalW * 0.3 * 10) / 10;
  const c = Math.round((totalW - a - b) * 10) / 10;
  const cur = (w: number): string => (Math.abs(w) / voltageV).toFixed(3);
  return (
    `{"id":0,"a_current":${cur(a)},"a_voltage":${voltageV},"a_act_power":${a},"a_aprt_power":${Math.abs(a)},"a_pf":1,"a_freq":${freqHz},` +
    `"b_current":${cur(b)},"b_voltage":${voltageV + 0.3},"b_act_power":${b},"b_aprt_power":${Math.abs(b)},"b_pf":1,"b_freq":${freqHz},` +
    `"c_current":${cur(c)},"c_voltage":${voltageV - 0.2},"c_act_power":${c},"c_aprt_power":${Math.abs(c)},"c_pf":1,"c_freq":${freqHz},` +
    `"n_current":null,"total_current":${cur(totalW)},"total_act_power":${totalW},"total_aprt_power":${Math.abs(totalW)},"user_calibrated_phase":[]}`
  );
}

/**
 * Shelly Pro 3EM emdata:0: lifetime Wh drawn / returned over all phases (split over the phases as the device would).
 */
export function shellyEmData(importWh: number, exportWh: number): string {
  const ai = importWh * 0.5;
  const bi = importWh * 0.3;
  const ae = exportWh * 0.5;
  const be = exportWh * 0.3;
  return (
    `{"id":0,"a_total_act_energy":${wh2(ai)},"a_total_act_ret_energy":${wh2(ae)},"b_total_act_energy":${wh2(bi)},"b_total_act_ret_energy":${wh2(be)},` +
    `"c_total_act_energy":${wh2(importWh - ai - bi)},"c_total_act_ret_energy":${wh2(exportWh - ae - be)},"total_act":${wh2(importWh)},"total_act_ret":${wh2(exportWh)}}`
  );
}

/** The Shelly's `<id>/online` (retained; "false" is its last will). */
export const SHELLY_ONLINE = 'true';
export const SHELLY_OFFLINE = 'false';
