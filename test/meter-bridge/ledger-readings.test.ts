import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ReadingEvent } from '../../core/events.js';
import {
  computeIntervalEnergy,
  insertReadings,
  listReadingsBefore,
  upsertIntervalEnergy,
} from '../../ledger/readings.js';
import { fcParams } from '../helpers/fc.js';
import { ledgerWithMeters } from './helpers.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const MIN15 = 15 * 60_000;

const r = (
  ts: number,
  importWh: number | null,
  exportWh: number | null = 0,
  quality: ReadingEvent['quality'] = 'good',
  meterId = 'm1',
): ReadingEvent => ({
  type: 'reading',
  meterId,
  ts: new Date(ts).toISOString(),
  powerW: 100,
  importWh,
  exportWh,
  voltageV: 230,
  frequencyHz: 50,
  quality,
});

test('readings are stored once per (meter, ts), with gateway and signature', () => {
  const ledger = ledgerWithMeters();
  const a = { ...r(T0, 1000), gateway: '0x0000000000000000000000000000000000000001', signature: '0xabc' };
  const first = insertReadings(ledger, [a, r(T0 + 1000, 1001)], T0 + 5);
  assert.deepEqual([first.inserted, first.duplicates, first.fresh.map((x) => x.importWh)], [2, 0, [1000, 1001]]);
  const again = insertReadings(ledger, [{ ...a, importWh: 999 }], T0 + 6);
  assert.deepEqual(
    [again.inserted, again.duplicates, again.fresh],
    [0, 1, []],
    'a re-sent reading is a duplicate: not stored, not fresh',
  );
  const rows = listReadingsBefore(ledger, 'm1', T0, T0 + 2000);
  assert.equal(rows.length, 2);
  assert.equal(rows[0]!.importWh, 1000, 'the first stored value is kept');
  assert.equal(rows[0]!.gateway, a.gateway);
  assert.equal(rows[0]!.signature, '0xabc');
  ledger.close();
});

test('interval energy is the counter delta across the boundaries, interpolated and floored', () => {
  const ledger = ledgerWithMeters();
  // One reading per minute, 2 Wh import per minute, starting 5 minutes before the interval, offset by 30 s.
  const rs: ReadingEvent[] = [];
  for (let m = -5; m <= 20; m++) rs.push(r(T0 + m * 60_000 + 30_000, 10_000 + 2 * (m + 5), 7));
  insertReadings(ledger, rs, T0);
  const e = computeIntervalEnergy(ledger, 'm1', T0, T0 + MIN15);
  // Counter at T0: between 10_008 (T0-30s) and 10_010 (T0+30s) → 10_009; at T0+15min: 10_039. Export constant.
  assert.deepEqual({ i: e.importWh, x: e.exportWh, q: e.quality }, { i: 30, x: 0, q: 'good' });
  assert.equal(e.firstReadingTs, T0 - 30_000);
  assert.equal(e.lastReadingTs, T0 + MIN15 + 30_000);
  const rows = upsertIntervalEnergy(ledger, T0, T0 + MIN15);
  assert.equal(rows[0]!.importWh, 30);
  const stored = ledger.db.prepare('SELECT * FROM interval_energy').all();
  assert.deepEqual(stored, [
    {
      interval_start: T0,
      meter_id: 'm1',
      import_wh: 30,
      export_wh: 0,
      quality: 'good',
      first_reading_ts: T0 - 30_000,
      last_reading_ts: T0 + MIN15 + 30_000,
      status: 'actual',
      reasons: '[]',
      method: null,
      received_by: null,
    },
  ]);
  ledger.close();
});

test('a counter reset contributes nothing and flags the interval; no reading after the end is missing', () => {
  const ledger = ledgerWithMeters();
  insertReadings(
    ledger,
    [r(T0, 5000), r(T0 + 5 * 60_000, 5100), r(T0 + 6 * 60_000, 3, 0, 'suspect'), r(T0 + MIN15, 50)],
    T0,
  );
  const e = computeIntervalEnergy(ledger, 'm1', T0, T0 + MIN15);
  assert.equal(e.importWh, 100 + 47);
  assert.equal(e.quality, 'suspect');
  assert.ok(e.reasons.some((x) => x.includes('backwards')));
  const next = computeIntervalEnergy(ledger, 'm1', T0 + MIN15, T0 + 2 * MIN15);
  assert.equal(next.quality, 'missing');
  assert.equal(next.importWh, 0);
  ledger.close();
});

test('a gap longer than the interval is flagged', () => {
  const ledger = ledgerWithMeters();
  insertReadings(ledger, [r(T0 - 20 * 60_000, 100), r(T0 + MIN15, 400)], T0);
  const e = computeIntervalEnergy(ledger, 'm1', T0, T0 + MIN15);
  assert.equal(e.quality, 'suspect');
  assert.equal(e.importWh, 300 - Math.floor(100 + (300 * 20) / 35) + 100);
  ledger.close();
});

test('property: consecutive intervals add up exactly to the counter delta', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1_000, max: 300_000 }), fc.integer({ min: 0, max: 50 })), {
        minLength: 4,
        maxLength: 60,
      }),
      (steps) => {
        const ledger = ledgerWithMeters();
        try {
          let ts = T0 - 60_000;
          let v = 1000;
          const rs = [r(ts, v)];
          for (const [dt, dv] of steps) {
            ts += dt;
            v += dv;
            rs.push(r(ts, v));
          }
          insertReadings(ledger, rs, T0);
          const lastStart = Math.floor((ts - T0) / MIN15) * MIN15 + T0 - MIN15;
          if (lastStart < T0) return;
          let sum = 0;
          for (let s = T0; s <= lastStart; s += MIN15) {
            const e = computeIntervalEnergy(ledger, 'm1', s, s + MIN15, { maxGapMs: Infinity });
            assert.equal(e.quality, 'good');
            assert.ok(e.importWh >= 0);
            sum += e.importWh;
          }
          const c = (t: number): number => {
            for (let i = 1; i < rs.length; i++) {
              const a = Date.parse(rs[i - 1]!.ts);
              const b = Date.parse(rs[i]!.ts);
              if (t >= a && t <= b)
                return rs[i - 1]!.importWh! + ((rs[i]!.importWh! - rs[i - 1]!.importWh!) * (t - a)) / (b - a);
            }
            throw new Error('outside');
          };
          assert.equal(sum, Math.floor(c(lastStart + MIN15) + 1e-9) - Math.floor(c(T0) + 1e-9));
        } finally {
          ledger.close();
        }
      },
    ),
    fcParams('interval energy telescopes', { numRuns: 60 }),
  );
});
