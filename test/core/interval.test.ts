import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  intervalStartOf,
  nextIntervalStart,
  intervalsBetween,
  toIso,
  toUnixSeconds,
  parseIntervalStart,
  parseUtc,
  INTERVAL_MINUTES,
} from '../../core/interval.js';
import { MicrogridError } from '../../core/errors.js';

const t = (iso: string): number => Date.parse(iso);

test('intervals align to UTC multiples of their length', () => {
  assert.equal(toIso(intervalStartOf(t('2026-11-21T19:44:59.999Z'), 15)), '2026-11-21T19:30:00Z');
  assert.equal(toIso(intervalStartOf(t('2026-11-21T19:45:00.000Z'), 15)), '2026-11-21T19:45:00Z');
  assert.equal(toIso(intervalStartOf(t('2026-11-21T19:59:59Z'), 60)), '2026-11-21T19:00:00Z');
  assert.equal(toIso(nextIntervalStart(t('2026-11-21T19:45:00Z'), 5)), '2026-11-21T19:50:00Z');
  assert.equal(toUnixSeconds(t('2026-11-21T19:45:00Z')), 1_795_290_300);
});

test('across the EU spring DST change (2026-03-29 01:00 UTC) a day still has 96 quarter hours', () => {
  const day = [...intervalsBetween(t('2026-03-29T00:00:00Z'), t('2026-03-30T00:00:00Z'), 15)];
  assert.equal(day.length, 96);
  assert.equal(toIso(day[4]!), '2026-03-29T01:00:00Z');
  assert.ok(
    day.every((s, i) => i === 0 || s - day[i - 1]! === 900_000),
    'no gap or overlap at the DST change',
  );
});

test('across the EU autumn DST change (2026-10-25) no interval repeats', () => {
  const day = [...intervalsBetween(t('2026-10-25T00:00:00Z'), t('2026-10-26T00:00:00Z'), 30)];
  assert.equal(day.length, 48);
  assert.equal(new Set(day).size, 48);
});

test('a leap day has its 24 hours and 29 February exists in 2028', () => {
  const day = [...intervalsBetween(t('2028-02-29T00:00:00Z'), t('2028-03-01T00:00:00Z'), 60)];
  assert.equal(day.length, 24);
  assert.equal(toIso(day[23]!), '2028-02-29T23:00:00Z');
  assert.equal(toIso(nextIntervalStart(t('2028-02-29T23:59:59Z'), 60)), '2028-03-01T00:00:00Z');
  assert.throws(
    () => parseUtc('2027-02-29T00:00:00Z', 'interval'),
    (e: unknown) => e instanceof MicrogridError && e.code === 'INVALID_TIME',
  );
});

test('the year boundary rolls over without drift for every interval length', () => {
  for (const m of INTERVAL_MINUTES) {
    const last = intervalStartOf(t('2026-12-31T23:59:59.999Z'), m);
    assert.equal(toIso(last + m * 60_000), '2027-01-01T00:00:00Z', `${m} min`);
    // a whole year of intervals, counted: no drift
    const n = [...intervalsBetween(t('2026-01-01T00:00:00Z'), t('2027-01-01T00:00:00Z'), m)].length;
    assert.equal(n, (365 * 24 * 60) / m, `${m} min intervals in 2026`);
  }
});

test('interval starts parse from ISO UTC or unix seconds and must be aligned', () => {
  assert.equal(parseIntervalStart('2026-11-21T19:45:00Z', 15), t('2026-11-21T19:45:00Z'));
  assert.equal(parseIntervalStart(1_795_290_300, 15), t('2026-11-21T19:45:00Z'));
  assert.throws(() => parseIntervalStart('2026-11-21T19:46:00Z', 15, 'interval'), /aligned to 15 minutes/);
  assert.throws(() => parseIntervalStart('2026-11-21T20:45:00+01:00', 15), /ISO 8601 UTC/);
  assert.throws(() => parseIntervalStart('2026-11-21 19:45', 15), /ISO 8601 UTC/);
});
