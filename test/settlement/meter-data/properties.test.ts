import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateMeterSeries, type SeriesReading } from '../../../settlement/meter-data/index.js';
import { fcParams } from '../../helpers/fc.js';

const T0 = Date.parse('2026-06-01T10:00:00Z');
const MIN = 60_000;
const INTERVAL = 15 * MIN;
const N = 4;

type Fault = 'none' | 'drop' | 'glitch+1' | 'glitch+2' | 'glitch-1' | 'spike';

/**
 * A meter read every minute over four 15-minute intervals, with a random
 * fault per minute (a lost reading, a reading whose scale factor jumped by a
 * power of ten, a spike that comes back) and optionally a stretch where the
 * meter counts in 10 Wh steps. The first and last readings are exact and sit
 * on the span's boundaries.
 */
const scenario = fc.record({
  imports: fc.array(fc.integer({ min: 0, max: 80 }), { minLength: N * 15, maxLength: N * 15 }),
  exports: fc.array(fc.integer({ min: 0, max: 80 }), { minLength: N * 15, maxLength: N * 15 }),
  faults: fc.array(
    fc.constantFrom<Fault>('none', 'none', 'none', 'none', 'drop', 'glitch+1', 'glitch+2', 'glitch-1', 'spike'),
    { minLength: N * 15, maxLength: N * 15 },
  ),
  coarse: fc.option(fc.tuple(fc.integer({ min: 1, max: 58 }), fc.integer({ min: 1, max: 20 }))),
});

test('over random fault sequences: Σ energies = counter delta, and no faulted interval is actual', () => {
  fc.assert(
    fc.property(scenario, ({ imports, exports, faults, coarse }) => {
      const readings: SeriesReading[] = [];
      const faultAt: number[] = [];
      const dropAt: number[] = [];
      let imp = 250_000;
      let exp = 70_000;
      for (let m = 0; m <= N * 15; m++) {
        if (m > 0) {
          imp += imports[m - 1]!;
          exp += exports[m - 1]!;
        }
        const ts = T0 + m * MIN;
        const isCoarse = coarse !== null && m >= coarse[0] && m < coarse[0] + coarse[1] && m < N * 15;
        const q = (v: number): number => (isCoarse ? Math.floor(v / 10) * 10 : v);
        const powerW = ((imports[m] ?? 0) - (exports[m] ?? 0)) * 60;
        const fault = m === 0 || m === N * 15 ? 'none' : faults[m - 1]!;
        if (fault === 'drop') dropAt.push(ts);
        else readings.push({ ts, importWh: q(imp), exportWh: q(exp), powerW });
        if (fault.startsWith('glitch') || fault === 'spike') {
          const t = ts + 10_000;
          faultAt.push(t);
          const f = fault === 'glitch+1' ? 10 : fault === 'glitch+2' ? 100 : 1;
          const bad = (v: number): number =>
            fault === 'glitch-1' ? Math.floor(v / 10) : fault === 'spike' ? v + 40_000 : v * f;
          readings.push({ ts: t, importWh: bad(imp), exportWh: bad(exp), powerW });
        }
      }
      const out = validateMeterSeries({
        meterId: 'm',
        role: 'grid',
        ratedPowerW: 5000,
        intervalMs: INTERVAL,
        intervals: Array.from({ length: N }, (_, i) => T0 + i * INTERVAL),
        readings,
      });
      const first = readings[0]!;
      const last = readings.at(-1)!;
      assert.equal(
        out.reduce((s, e) => s + e.importWh, 0),
        last.importWh! - first.importWh!,
        'Σ import = counter delta',
      );
      assert.equal(
        out.reduce((s, e) => s + e.exportWh, 0),
        last.exportWh! - first.exportWh!,
        'Σ export = counter delta',
      );
      for (const e of out) {
        const s = e.intervalStart;
        const end = s + INTERVAL;
        if (faultAt.some((t) => t > s && t <= end))
          assert.equal(e.status, 'held', `interval ${s} holds a failed reading: ${JSON.stringify(e)}`);
        if (dropAt.some((t) => t - MIN < end && t + MIN > s))
          assert.notEqual(e.status, 'actual', `interval ${s} has a gap`);
        const clean =
          !faultAt.some((t) => t > s - 2 * MIN && t < end + 2 * MIN) &&
          !dropAt.some((t) => t > s - 2 * MIN && t < end + 2 * MIN);
        if (clean) assert.equal(e.status, 'actual', `clean interval ${s}: ${JSON.stringify(e.reasons)}`);
      }
    }),
    fcParams('vee series', { numRuns: 300 }),
  );
});
