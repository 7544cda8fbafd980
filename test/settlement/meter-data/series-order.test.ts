import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_METER_DATA_RULES, resolutionOf, type SeriesReading } from '../../../settlement/meter-data/index.js';
import { seriesTrust } from '../../../settlement/meter-data/series-trust.js';
import { fcParams } from '../../helpers/fc.js';

// seriesTrust takes a series that is already ascending, complete and one per timestamp as it is (what the ledger
// gives it), and builds that order itself for anything else: both must give the same trust.

const T0 = Date.parse('2026-06-01T10:00:00Z');

/** The slow way, as the rules say it: per timestamp the first reading with every field, ascending. */
function canonical(readings: readonly SeriesReading[], fields: readonly ('importWh' | 'exportWh')[]): SeriesReading[] {
  const byTs = new Map<number, SeriesReading>();
  for (const r of readings)
    if (fields.length > 0 && fields.every((f) => r[f] !== null) && !byTs.has(r.ts)) byTs.set(r.ts, r);
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

const reading = fc.record({
  minute: fc.integer({ min: 0, max: 40 }),
  importWh: fc.option(
    fc.integer({ min: 0, max: 3_000 }).map((d) => 100_000 + d * 10),
    { freq: 8 },
  ),
  exportWh: fc.option(
    fc.integer({ min: 0, max: 3_000 }).map((d) => 20_000 + d),
    { freq: 8 },
  ),
  powerW: fc.option(fc.integer({ min: -5_000, max: 5_000 })),
});

test('seriesTrust: a series in any order, with duplicate timestamps and incomplete readings, is trusted as its canonical form', () => {
  fc.assert(
    fc.property(fc.array(reading, { maxLength: 40 }), (rs) => {
      const readings: SeriesReading[] = rs.map((r) => ({
        ts: T0 + r.minute * 60_000,
        importWh: r.importWh,
        exportWh: r.exportWh,
        powerW: r.powerW,
      }));
      const given = seriesTrust(readings, 5_000, DEFAULT_METER_DATA_RULES);
      const sorted = canonical(readings, given.fields);
      const again = seriesTrust(sorted, 5_000, DEFAULT_METER_DATA_RULES);
      // With no complete reading left the canonical form cannot say which fields the meter has; nothing is trusted.
      assert.deepEqual(sorted.length === 0 ? { ...again, fields: given.fields } : again, given);
      assert.deepEqual(
        given.usableTs,
        sorted.map((r) => r.ts),
      );
    }),
    fcParams('series order', { numRuns: 300 }),
  );
});

test('seriesTrust: a duplicate timestamp keeps the first reading stored, wherever it sits', () => {
  const a = { ts: T0, importWh: 1_000, exportWh: 0, powerW: null };
  const b = { ts: T0 + 60_000, importWh: 1_010, exportWh: 0, powerW: null };
  const dup = { ts: T0 + 60_000, importWh: 1_020, exportWh: 0, powerW: null };
  const t = seriesTrust([b, a, dup], 5_000, DEFAULT_METER_DATA_RULES);
  assert.deepEqual(
    t.trusted.map((p) => p.raw.importWh),
    [1_000, 1_010],
  );
  // Ascending but for a repeated timestamp: not taken as it is.
  const u = seriesTrust([a, b, dup], 5_000, DEFAULT_METER_DATA_RULES);
  assert.deepEqual(
    u.trusted.map((p) => p.raw.importWh),
    [1_000, 1_010],
  );
});

/** resolutionOf as first written: the largest power of ten ≤ 1000 dividing every non-zero counter. */
function resolutionOracle(r: SeriesReading): number {
  if (r.resolutionWh !== undefined && r.resolutionWh !== null && r.resolutionWh >= 1) return r.resolutionWh;
  const values = [r.importWh, r.exportWh].filter((v): v is number => v !== null && v > 0);
  if (values.length === 0) return 1;
  let res = 1;
  while (res < 1000 && values.every((v) => v % (res * 10) === 0)) res *= 10;
  return res;
}

test('resolutionOf: the largest power of ten up to 1 kWh that divides every non-zero counter, or the reported one', () => {
  const counter = fc.option(
    fc.oneof(
      fc.integer({ min: -10, max: 10 }),
      fc.integer({ min: 0, max: 100_000 }).map((v) => v * 10),
      fc.integer({ min: 0, max: 1_000 }).map((v) => v * 1_000),
      fc.integer({ min: 0, max: 100 }).map((v) => v * 100_000),
    ),
  );
  fc.assert(
    fc.property(
      counter,
      counter,
      fc.option(fc.constantFrom(0, 0.5, 1, 10, 100)),
      (importWh, exportWh, resolutionWh) => {
        const r: SeriesReading = { ts: T0, importWh, exportWh, powerW: null, resolutionWh };
        assert.equal(resolutionOf(r), resolutionOracle(r));
      },
    ),
    fcParams('resolutionOf', { numRuns: 2_000 }),
  );
});
