/**
 * What one poll of one meter yields, before validation and signing. Power is
 * signed at the meter: positive = energy flowing in from the grid (import,
 * consumption), negative = flowing out (export, PV production). Counters are
 * lifetime Wh as the device reports them (scaled, floored to whole Wh).
 */
export interface Measurement {
  meterId: string;
  powerW: number | null;
  importWh: number | null;
  exportWh: number | null;
  voltageV: number | null;
  frequencyHz: number | null;
  /**
   * Where the device's counter wraps, in Wh (acc32 × 10^sf), so a rollover is
   * told apart from a reset. null when the counter does not wrap in practice.
   */
  counterWrapWh: number | null;
  /** The device says it sleeps (SunSpec inverter St = OFF, SLEEPING or STANDBY, or nothing but sentinels). */
  asleep?: boolean;
}

/** A meter's rated power as its device states it (SunSpec nameplate, a profile's field). */
export interface ReportedRatedPower {
  meterId: string;
  ratedPowerW: number;
  /** Where it came from, for the log and the ledger reader: "SunSpec model 120 WRtg 5000 × 10^0 W". */
  from: string;
}

/** A device the bridge polls: one request plan, one or more meters. */
export interface DeviceReader {
  readonly deviceId: string;
  /** Reads every meter of the device once. Throws MicrogridError on failure. */
  read(): Promise<Measurement[]>;
  /**
   * False until `prepare()` succeeded: the bridge sets a device up (connect,
   * SunSpec discovery) outside its polling cycles, and polls it from then on.
   */
  readonly ready: boolean;
  /** Connects and finds what to read. `read()` works without it (it discovers on first use). */
  prepare(): Promise<void>;
  /** Registers requests per read (after coalescing), for the benchmark and health. */
  readonly requestsPerRead: number;
  /** What the device is, for `mgx scan` and the discovery report. */
  describe(): Record<string, unknown>;
  /** Rated powers the device states for its meters (known once `ready`); none when it states none. */
  ratedPowers?(): ReportedRatedPower[];
}

export function floorWh(v: number | bigint | null): number | null {
  if (v === null) return null;
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (!Number.isFinite(n) || n < 0) return null;
  // A float32 holds ~7 significant digits: 0.789 kWh arrives as 0.78899997, which
  // ×1000 must still be 789 Wh. A value within float32's relative precision
  // (6e-8, guarded at 1.2e-7) of a whole Wh is that Wh; anything else is floored.
  const r = Math.round(n);
  return Math.abs(n - r) <= Math.max(1e-9, n * 1.2e-7) ? r : Math.floor(n);
}

export function roundOrNull(v: number | bigint | null, digits = 0): number | null {
  if (v === null) return null;
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (!Number.isFinite(n)) return null;
  const f = 10 ** digits;
  // Half away from zero, so -1234.5 W export rounds like +1234.5 W import (Math.round would give -1234).
  return (Math.sign(n) * Math.round(Math.abs(n) * f)) / f || 0;
}
