/**
 * The vocabulary of meter data validation, estimation and editing (VEE):
 * what goes in (signed readings as stored) and what comes out (one status
 * per meter-interval energy, with the reasons and the estimation method).
 */

/**
 * actual: validated; estimated: a gap bridged by trusted counters; held: waits for the operator; partial: covered from
 * the meter's first-ever reading on.
 */
export type MeterDataStatus = 'actual' | 'estimated' | 'held' | 'partial';

export const METER_DATA_STATUSES: readonly MeterDataStatus[] = ['actual', 'estimated', 'held', 'partial'];

/** A rule's stable code and a message that carries the numbers. */
export interface MeterDataReason {
  code: string;
  message: string;
}

/** A stored, signed reading (ledger StoredReading), as the rules read it. */
export interface SeriesReading {
  /** Epoch ms (market time). */
  ts: number;
  importWh: number | null;
  exportWh: number | null;
  /** Positive = import, negative = export (meter-bridge/devices/measurement.ts). */
  powerW: number | null;
  /** The bridge's per-poll flag; kept for display, the rules do not decide on it. */
  quality?: string;
  /** Counter resolution the device reported, Wh; absent: inferred from the values (rules.ts). */
  resolutionWh?: number | null;
}

export interface MeterIntervalEnergy {
  intervalStart: number;
  meterId: string;
  importWh: number;
  exportWh: number;
  status: MeterDataStatus;
  reasons: MeterDataReason[];
  /** For estimated: how (e.g. 'time-apportioned'); null otherwise. */
  method: string | null;
}

export interface MeterDataRules {
  /** Allowance on top of rated power × duration (0.1 = 10 %). */
  ratedPowerMargin: number;
  /** Trusted readings further apart than this (market time) leave a gap, ms. */
  maxGapMs: number;
  /** A counter is frozen when power says at least max(2 × resolution, this) Wh flowed while it stood still… */
  frozenFloorWh: number;
  /** …for at least this much market time, ms. */
  frozenMinMs: number;
}

export interface ValidateMeterSeriesInput {
  meterId: string;
  role: 'grid' | 'pv';
  ratedPowerW: number;
  intervalMs: number;
  /** Interval starts, ascending. */
  intervals: number[];
  /** Oldest first, covering the intervals plus the last readings before and the first after. */
  readings: SeriesReading[];
  rules?: Partial<MeterDataRules>;
}
