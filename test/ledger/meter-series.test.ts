import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openLedger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { insertReadings } from '../../ledger/readings.js';
import {
  allMeterSeriesReadings,
  bracketingFromSeries,
  bracketingReadingTs,
  meterSeriesReadings,
} from '../../ledger/meter-data.js';
import type { ReadingEvent } from '../../core/events.js';
import { mulberry32 } from '../../core/seeded-random.js';
import { tempDir } from '../helpers/tmp.js';

const T0 = Date.parse('2026-06-21T09:00:00Z');
const MIN = 60_000;
const LEN = 15 * MIN;

const reading = (meterId: string, ts: number, wh: number): ReadingEvent => ({
  type: 'reading',
  meterId,
  ts: new Date(ts).toISOString(),
  powerW: wh % 7 === 0 ? null : wh,
  importWh: wh,
  exportWh: wh % 5 === 0 ? null : 2 * wh,
  voltageV: null,
  frequencyHz: null,
  quality: wh % 11 === 0 ? 'suspect' : 'good',
});

// The metering step reads every meter's series in one statement; the audit and the holds read them one meter at a
// time (meterSeriesReadings, bracketingReadingTs). Both must select the same readings, or the audit re-validates
// on other data than the step did.
test('allMeterSeriesReadings and bracketingFromSeries select what the per-meter queries select', () => {
  const l = openLedger(join(tempDir(), 'l.sqlite'));
  const meters = ['a', 'b', 'c', 'd', 'e', 'f'];
  for (const id of meters)
    upsertParticipant(l, { id, name: id, zone: 'north', meters: [{ id: `${id}-grid`, role: 'grid' }], policy: {} }, 1);
  const rand = mulberry32(7);
  // a: a reading every minute for hours, received at once; b: sparse (fewer than 5 beyond the window on each side,
  // none inside the interval); c: readings exactly on the boundaries only; d: readings received after the cut-off
  // (inside and beyond the window), which must not count; e: only readings after the interval; f: none at all.
  const ins = (rs: ReadingEvent[], at: number): void => void insertReadings(l, rs, at);
  ins(
    Array.from({ length: 240 }, (_, i) => reading('a-grid', T0 - 2 * 3_600_000 + i * MIN, 10 + i)),
    T0 + 2 * 3_600_000,
  );
  ins([reading('b-grid', T0 - 3 * LEN, 1), reading('b-grid', T0 - 2 * LEN - MIN, 3)], T0);
  ins([reading('b-grid', T0 + 3 * LEN, 4)], T0 + 3 * LEN);
  ins(
    [-2, -1, 0, 1, 2, 3].map((k) => reading('c-grid', T0 + k * LEN, 100 + k)),
    T0 + 4 * LEN,
  );
  for (let i = 0; i < 120; i++) {
    const ts = T0 - 3_600_000 + i * MIN;
    ins([reading('d-grid', ts, 500 + i)], ts + Math.floor(rand() * 3) * LEN);
  }
  ins([reading('e-grid', T0 + LEN + MIN, 7), reading('e-grid', T0 + 2 * LEN, 8)], T0 + 2 * LEN);
  const start = T0;
  const end = T0 + LEN;
  for (const lookMs of [LEN, 2 * LEN])
    for (const receivedBy of [T0 + LEN + 30_000, T0 + 2 * LEN, T0 + 5 * 3_600_000, undefined]) {
      const all = allMeterSeriesReadings(l, start, end, lookMs, receivedBy);
      for (const id of meters) {
        const m = `${id}-grid`;
        const one = meterSeriesReadings(l, m, start, end, lookMs, receivedBy);
        const got = all.get(m) ?? [];
        assert.deepEqual(got, one, `${m}, lookMs ${lookMs}, received by ${receivedBy}`);
        assert.deepEqual(
          bracketingFromSeries(got, start, end),
          bracketingReadingTs(l, m, start, end, receivedBy),
          `${m} bracketing, received by ${receivedBy}`,
        );
      }
      assert.equal(all.has('f-grid'), false);
    }
  // Not vacuous: the cut-off and the extra readings change what is selected.
  assert.equal(allMeterSeriesReadings(l, start, end, LEN).get('a-grid')!.length, 45 + 1 + 10);
  assert.ok(
    allMeterSeriesReadings(l, start, end, LEN, T0 + LEN + 30_000).get('d-grid')!.length <
      allMeterSeriesReadings(l, start, end, LEN).get('d-grid')!.length,
  );
  l.close();
});

// The series statement joins each meter's numbers into text in SQLite and parses them back: every double must come
// back as the same double, or the step would validate on other powers than the audit reads.
test('allMeterSeriesReadings returns each power reading as the very double stored, even those needing 17 digits', () => {
  const l = openLedger(join(tempDir(), 'l.sqlite'));
  upsertParticipant(l, { id: 'p', name: 'p', zone: 'north', meters: [{ id: 'p-grid', role: 'grid' }], policy: {} }, 1);
  const rand = mulberry32(11);
  const hard = [
    0.1 + 0.2,
    -1234.5678901234567,
    1e-7,
    2 ** -30,
    (1 / 3) * 24_000,
    -0.000123456789012345,
    24_149.999999999996,
  ];
  const powers = [...hard, ...Array.from({ length: 200 }, () => (rand() - 0.5) * 48_000 * rand())];
  const rs: ReadingEvent[] = powers.map((p, i) => ({
    ...reading('p-grid', T0 - 2 * LEN + i * 1000, 10 + i),
    powerW: p,
  }));
  insertReadings(l, rs, T0 + 3 * LEN);
  const got = allMeterSeriesReadings(l, T0, T0 + LEN, 2 * LEN).get('p-grid')!;
  assert.equal(got.length, powers.length);
  assert.deepEqual(
    got.map((r) => r.powerW),
    meterSeriesReadings(l, 'p-grid', T0, T0 + LEN, 2 * LEN).map((r) => r.powerW),
  );
  // Not only equal to the other path: equal to what was written, bit for bit.
  got.forEach((r, i) => assert.ok(Object.is(r.powerW, powers[i]), `power ${i}: ${r.powerW} read, ${powers[i]} stored`));
  l.close();
});
