import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PriceScale } from '../../core/units.js';
import { formatTicks, parseTicks, tickFormat } from '../../matching-engine/ticks.js';
import { fcParams } from '../helpers/fc.js';

// The integer price parser of the hot path must agree with PriceScale (decimal.js) exactly.

const TICKS = ['0.0001', '0.0005', '0.01', '1', '0.25', '0.000001'];
const digits = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...'0123456789'.split('')), minLength: min, maxLength: max });
const priceLike = fc.oneof(
  fc.tuple(digits(1, 4), fc.option(digits(0, 9))).map(([a, b]) => (b === null ? a : `${a}.${b}`)),
  fc.string({ unit: fc.constantFrom(...'0123456789.-e+ '.split('')), maxLength: 10 }),
);

test('parseTicks accepts exactly the unsigned prices PriceScale.toTicks accepts, with the same value', () => {
  fc.assert(
    fc.property(fc.constantFrom(...TICKS), priceLike, (tick, s) => {
      const scale = new PriceScale(tick);
      let expected: number | undefined;
      try {
        expected = scale.toTicks(s);
      } catch {
        expected = undefined;
      }
      const got = parseTicks(s, tickFormat(scale));
      // Unsigned prices PriceScale accepts, the parser accepts with the same value; the rest it leaves
      // to PriceScale (undefined), which refuses them or, for "-0", accepts them on the slow path.
      if (expected !== undefined && !s.startsWith('-')) assert.equal(got, expected, `${s} at tick ${tick}`);
      else assert.equal(got, undefined, `${s} at tick ${tick} goes to the slow path`);
    }),
    fcParams('parseTicks = PriceScale.toTicks', { numRuns: 3000 }),
  );
});

test('formatTicks prints what PriceScale.toString prints', () => {
  fc.assert(
    fc.property(fc.constantFrom(...TICKS), fc.integer({ min: 0, max: 10_000_000 }), (tick, t) => {
      const scale = new PriceScale(tick);
      assert.equal(formatTicks(t, tickFormat(scale)), scale.toString(t));
    }),
    fcParams('formatTicks = PriceScale.toString', { numRuns: 2000 }),
  );
});
