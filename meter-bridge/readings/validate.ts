import type { ReadingQuality } from '../../core/events.js';
import type { Measurement } from '../devices/measurement.js';

/**
 * Counter plausibility, per meter. A counter that goes backwards, jumps
 * beyond what the meter's rated power allows in the elapsed time, or stays
 * frozen while power flows makes the reading `suspect` (with the reason):
 * it is stored and shown, never used silently.
 *
 * acc32 counters wrap at 2^32 × 10^sf: a drop from the top quarter of that
 * range to the bottom quarter is a rollover, and the guard keeps counting in
 * an extended (unwrapped) counter so downstream deltas stay right.
 */
export interface CounterGuardOptions {
  /** Largest plausible power of the meter, W. */
  ratedPowerW: number;
  /** Counter energy that must accumulate before "frozen while power flows" is called, Wh. */
  frozenWh: number;
  /** Allowance on top of rated power × time for counter resolution, Wh. */
  slackWh: number;
}

export const DEFAULT_GUARD: CounterGuardOptions = { ratedPowerW: 100_000, frozenWh: 50, slackWh: 10 };

export interface Checked {
  importWh: number | null;
  exportWh: number | null;
  quality: ReadingQuality;
  reasons: string[];
}

interface CounterState {
  raw: number;
  /** Added to the raw value after rollovers. */
  offset: number;
  /** Expected energy (from power) since the counter last moved, Wh. */
  expectedSinceMove: number;
}

export class CounterGuard {
  readonly #opts: CounterGuardOptions;
  #lastTs: number | null = null;
  #lastPowerW: number | null = null;
  readonly #state: { importWh: CounterState | null; exportWh: CounterState | null } = { importWh: null, exportWh: null };

  constructor(opts: Partial<CounterGuardOptions> = {}) {
    this.#opts = { ...DEFAULT_GUARD, ...opts };
  }

  check(m: Measurement, ts: number): Checked {
    const reasons: string[] = [];
    const dtH = this.#lastTs === null ? 0 : Math.max(0, ts - this.#lastTs) / 3_600_000;
    // Trapezoid of the two power samples: what the counters should have moved by.
    const avgW = this.#lastPowerW !== null && m.powerW !== null ? (this.#lastPowerW + m.powerW) / 2 : (m.powerW ?? this.#lastPowerW);
    const out: Checked = { importWh: null, exportWh: null, quality: 'good', reasons };
    for (const field of ['importWh', 'exportWh'] as const) {
      const raw = m[field];
      const prev = this.#state[field];
      if (raw === null) {
        out[field] = null;
        continue;
      }
      if (!prev) {
        this.#state[field] = { raw, offset: 0, expectedSinceMove: 0 };
        out[field] = raw;
        continue;
      }
      let offset = prev.offset;
      let delta = raw - prev.raw;
      const wrap = m.counterWrapWh;
      if (delta < 0 && wrap !== null && prev.raw >= wrap * 0.75 && raw <= wrap * 0.25) {
        offset += wrap;
        delta += wrap;
        reasons.push(`${field}-rollover`);
      }
      if (delta < 0) {
        // A reset (meter replaced, firmware update): reported as the device said it,
        // flagged, and the new value is the baseline from here on. Interval energy
        // never uses a backwards step (ledger/readings.ts).
        reasons.push(`${field}-backwards`);
        out.quality = 'suspect';
        offset = 0;
        delta = 0;
      }
      const maxWh = this.#opts.ratedPowerW * dtH + this.#opts.slackWh;
      if (delta > maxWh) {
        reasons.push(`${field}-jump`);
        out.quality = 'suspect';
      }
      const flowing = avgW === null ? 0 : field === 'importWh' ? Math.max(0, avgW) : Math.max(0, -avgW);
      const expected = delta > 0 ? 0 : prev.expectedSinceMove + flowing * dtH;
      if (delta === 0 && expected >= this.#opts.frozenWh) {
        reasons.push(`${field}-frozen`);
        out.quality = 'suspect';
      }
      this.#state[field] = { raw, offset, expectedSinceMove: expected };
      out[field] = raw + offset;
    }
    this.#lastTs = ts;
    if (m.powerW !== null) this.#lastPowerW = m.powerW;
    if (m.powerW !== null && Math.abs(m.powerW) > this.#opts.ratedPowerW * 1.5) {
      reasons.push('power-beyond-rating');
      out.quality = 'suspect';
    }
    return out;
  }
}
