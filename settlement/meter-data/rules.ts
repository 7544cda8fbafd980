import type { MeterDataRules, SeriesReading } from './types.js';

/**
 * The published rules: their codes, default numbers and the conservative
 * rated power per meter role used when neither the config nor the device
 * states one. docs/meter-data.md
 * explains each; the audit re-runs exactly these.
 */

export const VEE_CODES = {
  aboveRatedPower: 'VEE_ABOVE_RATED_POWER',
  counterBackwards: 'VEE_COUNTER_BACKWARDS',
  scaleFactorGlitch: 'VEE_SCALE_FACTOR_GLITCH',
  counterFrozen: 'VEE_COUNTER_FROZEN',
  gap: 'VEE_GAP',
  untrustedBaseline: 'VEE_UNTRUSTED_BASELINE',
  /**
   * Informational: part of the interval's energy is the estimate across a counter reset (series-trust.ts
   * resetStepEstimate).
   */
  resetEstimated: 'VEE_RESET_ESTIMATED',
  /** Not a failure: the meter's first-ever reading is inside the interval (status partial). */
  firstReading: 'VEE_FIRST_READING',
} as const;

export const DEFAULT_METER_DATA_RULES: MeterDataRules = {
  ratedPowerMargin: 0.1,
  // Readings are recorded once a minute of market time (bridge.recordEveryMs):
  // one lost record is a gap. The app widens this when polls are sparser than that.
  maxGapMs: 90_000,
  frozenFloorWh: 100,
  // A counter that catches up within 10 minutes bills right in total; one stuck longer is held.
  frozenMinMs: 600_000,
};

/**
 * Rated power when none is configured or read from the device: a grid
 * connection of 3 × 35 A at 230 V (24.15 kW, above any household's fuse) and
 * a 10 kW inverter. High on purpose: they hold only clearly impossible energy.
 */
// One figure for the whole product (order bounds and meter data rules): defined in core.
export { DEFAULT_RATED_POWER_W } from '../../core/market.js';

export const ESTIMATION_METHOD = 'time-apportioned';

/**
 * The counter resolution at a reading, Wh. The device's own figure when the
 * reading carries one; otherwise the largest power of ten (1…1000 Wh) that
 * divides every non-zero counter value of the reading. A meter whose scale
 * factor makes it count in 10 Wh steps reports multiples of 10; a 1 Wh
 * counter looks coarser by chance on some readings, which only widens the
 * rounding allowance of that one step.
 */
export function resolutionOf(r: SeriesReading): number {
  if (r.resolutionWh !== undefined && r.resolutionWh !== null && r.resolutionWh >= 1) return r.resolutionWh;
  // 0 stands for a counter that says nothing (null or 0). Two numbers, not a filtered array: this runs for every
  // reading of every meter each interval.
  const a = r.importWh !== null && r.importWh > 0 ? r.importWh : 0;
  const b = r.exportWh !== null && r.exportWh > 0 ? r.exportWh : 0;
  if (a === 0 && b === 0) return 1;
  let res = 1;
  while (res < 1000 && (a === 0 || a % (res * 10) === 0) && (b === 0 || b % (res * 10) === 0)) res *= 10;
  return res;
}

/**
 * The gap bound a running microgrid validates with: one lost record is a gap,
 * jitter is not. Readings are recorded every `recordEveryMs` of market time,
 * or once per poll when polls are sparser than that (a fast clock).
 */
export function maxGapFor(o: { recordEveryMs: number; pollIntervalMs: number; speed: number }): number {
  return Math.max(
    DEFAULT_METER_DATA_RULES.maxGapMs,
    Math.ceil(1.5 * o.recordEveryMs),
    Math.ceil(2.5 * o.pollIntervalMs * o.speed),
  );
}
