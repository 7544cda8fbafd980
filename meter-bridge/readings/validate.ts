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
  /**
   * Counter energy that must accumulate before "frozen while power flows" is called, Wh (at least 2 × the counter's
   * resolution).
   */
  frozenWh: number;
  /** …and market time the counter must have stood still, ms: judged on elapsed time, never on a count of polls. */
  frozenMinMs: number;
  /** Allowance on top of rated power × time for counter resolution, Wh. */
  slackWh: number;
}

// The same figures as the published meter data rules (settlement/meter-data/rules.ts): this per-poll flag only marks
// readings for the live view; settlement decides with validateMeterSeries.
export const DEFAULT_GUARD: CounterGuardOptions = {
  ratedPowerW: 24_150,
  frozenWh: 100,
  frozenMinMs: 600_000,
  slackWh: 10,
};

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
  /** When the counter last moved (ms). */
  movedAt: number;
  /** Its resolution as the values show it (largest power of ten ≤ 1000 dividing it). */
  resWh: number;
}

const resolutionOf = (v: number): number => {
  let r = 1;
  while (r < 1000 && v > 0 && v % (r * 10) === 0) r *= 10;
  return r;
};

export class CounterGuard {
  readonly #opts: CounterGuardOptions;
  #lastTs: number | null = null;
  #lastPowerW: number | null = null;
  readonly #state: { importWh: CounterState | null; exportWh: CounterState | null } = {
    importWh: null,
    exportWh: null,
  };

  constructor(opts: Partial<CounterGuardOptions> = {}) {
    this.#opts = { ...DEFAULT_GUARD, ...opts };
  }

  check(m: Measurement, ts: number): Checked {
    const reasons: string[] = [];
    const dtH = this.#lastTs === null ? 0 : Math.max(0, ts - this.#lastTs) / 3_600_000;
    // Trapezoid of the two power samples: what the counters should have moved by.
    // The smaller of the two power samples: what at least flowed (a flow that started between polls is not counted).
    const lastW = this.#lastPowerW;
    const flowOf = (w: number | null, field: 'importWh' | 'exportWh'): number =>
      w === null ? 0 : field === 'importWh' ? Math.max(0, w) : Math.max(0, -w);
    const out: Checked = { importWh: null, exportWh: null, quality: 'good', reasons };
    for (const field of ['importWh', 'exportWh'] as const) {
      const raw = m[field];
      const prev = this.#state[field];
      if (raw === null) {
        out[field] = null;
        continue;
      }
      if (!prev) {
        this.#state[field] = { raw, offset: 0, expectedSinceMove: 0, movedAt: ts, resWh: resolutionOf(raw) };
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
      // Only 10 Wh steps (TotWh_SF = 1) are taken from a single value: a counter at 1 000 Wh is not a 1 kWh counter.
      const resWh = Math.min(10, Math.max(prev.resWh, resolutionOf(raw)));
      // A step back within the counter's resolution is rounding (a scale factor that changed consistently).
      const rounding = delta < 0 && -delta <= resWh;
      if (rounding) delta = 0;
      if (delta < 0) {
        // A reset (meter replaced, firmware update): reported as the device said it,
        // flagged, and the new value is the baseline from here on. Interval energy
        // never uses a backwards step (ledger/readings.ts).
        reasons.push(`${field}-backwards`);
        out.quality = 'suspect';
        offset = 0;
        delta = 0;
      }
      // A coarse counter that stood still steps by everything since it last moved: judge the step on that time.
      const maxWh = (this.#opts.ratedPowerW * Math.max(0, ts - prev.movedAt)) / 3_600_000 + this.#opts.slackWh + resWh;
      if (delta > maxWh) {
        reasons.push(`${field}-jump`);
        out.quality = 'suspect';
      }
      const flowing = Math.min(flowOf(lastW, field), flowOf(m.powerW, field));
      const expected = delta > 0 ? 0 : prev.expectedSinceMove + flowing * dtH;
      const movedAt = delta > 0 ? ts : prev.movedAt;
      if (
        delta === 0 &&
        ts - movedAt >= this.#opts.frozenMinMs &&
        expected >= Math.max(this.#opts.frozenWh, 2 * resWh)
      ) {
        reasons.push(`${field}-frozen`);
        out.quality = 'suspect';
      }
      this.#state[field] = {
        raw: rounding ? prev.raw : raw,
        offset,
        expectedSinceMove: expected,
        movedAt,
        resWh: resolutionOf(raw),
      };
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
