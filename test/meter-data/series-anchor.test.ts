import { it } from 'node:test';
import assert from 'node:assert/strict';
import { validateMeterSeries } from '../../settlement/meter-data/index.js';

/**
 * A meter's first readings: a good one at 12:00, a scale-factor glitch at
 * 12:01 (×10, raw unchanged), good ones from 12:02. What the fault-sequence
 * property found: the series' anchor is "the first reading its successor
 * agrees with" (settlement/meter-data/series-trust.ts), so the good 12:00
 * reading, followed by the glitch, is dropped as an outlier. The interval
 * then claims the meter's first reading is at 12:02 (VEE_FIRST_READING) and
 * that the 12:00 reading failed validation (VEE_UNTRUSTED_BASELINE), and the
 * 2 Wh exported 12:00 → 12:02 are on no interval: Σ energies (13 Wh) ≠ the
 * counter delta (15 Wh).
 */
it('a glitch right after the first reading neither drops that reading nor loses its energy', () => {
  const T0 = Date.UTC(2027, 4, 2, 12, 0);
  const readings = Array.from({ length: 16 }, (_, k) => ({
    ts: T0 + k * 60_000,
    importWh: k === 1 ? 10_000_170 : 1_000_017,
    exportWh: k === 1 ? 5_000_330 : 500_033 + k,
    powerW: -60,
    quality: 'good',
  }));
  const out = validateMeterSeries({
    meterId: 'm',
    role: 'grid',
    ratedPowerW: 10_000,
    intervalMs: 300_000,
    intervals: [T0, T0 + 300_000, T0 + 600_000],
    readings,
    rules: { maxGapMs: 150_000 },
  });
  assert.deepEqual(
    out.map((e) => [e.exportWh, e.status, [...new Set(e.reasons.map((r) => r.code))]]),
    [
      [5, 'held', ['VEE_SCALE_FACTOR_GLITCH']],
      [5, 'actual', []],
      [5, 'actual', []],
    ],
  );
});
