import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateMeterSeries, type SeriesReading } from '../../../settlement/meter-data/index.js';

const T0 = Date.parse('2026-06-01T10:00:00Z');
const MIN = 60_000;
const INTERVAL = 15 * MIN;

/** A meter importing at a steady `w` W, read every minute (counter floored to Wh). */
function honest(minutes: number, w = 4000, start = 100_000, exportW = 0): SeriesReading[] {
  const out: SeriesReading[] = [];
  for (let m = 0; m <= minutes; m++)
    out.push({
      ts: T0 + m * MIN,
      importWh: start + Math.floor((w * m) / 60),
      exportWh: 50_000 + Math.floor((exportW * m) / 60),
      powerW: w - exportW,
    });
  return out;
}

const run = (readings: SeriesReading[], n: number, extra: Partial<Parameters<typeof validateMeterSeries>[0]> = {}) =>
  validateMeterSeries({
    meterId: 'h01-grid',
    role: 'grid',
    ratedPowerW: 5000,
    intervalMs: INTERVAL,
    intervals: Array.from({ length: n }, (_, i) => T0 + i * INTERVAL),
    readings,
    ...extra,
  });

test('an honest meter: every interval actual, energy = counter delta', () => {
  const r = run(honest(60), 4);
  assert.deepEqual(
    r.map((e) => [e.status, e.importWh, e.exportWh, e.method]),
    [0, 1, 2, 3].map(() => ['actual', 1000, 0, null]),
  );
  assert.ok(r.every((e) => e.reasons.length === 0));
});

test('scale-factor glitch (raw unchanged, ×10 for a few seconds): that interval held, the next actual and exact', () => {
  // readings at :30 of each minute, plus the glitched ones the bridge recorded (every suspect poll)
  const rs = honest(45).map((r) => ({ ...r, ts: r.ts + 30_000 }));
  const at = (ts: number, factor: number): SeriesReading => {
    const m = (ts - T0) / MIN;
    return { ts, importWh: (100_000 + Math.floor((4000 * m) / 60)) * factor, exportWh: 50_000 * factor, powerW: 4000 };
  };
  const glitches = [T0 + 20 * MIN + 5000, T0 + 20 * MIN + 10_000, T0 + 20 * MIN + 15_000, T0 + 30 * MIN].map((t) =>
    at(t, 10),
  );
  const all = [...rs, ...glitches, at(T0, 1)].sort((a, b) => a.ts - b.ts);
  const r = run(all, 3);
  assert.equal(r[1]!.status, 'held');
  const g = r[1]!.reasons.find((x) => x.code === 'VEE_SCALE_FACTOR_GLITCH');
  assert.ok(
    g && g.message.includes('×10^1') && g.message.includes(String(glitches[0]!.importWh)),
    JSON.stringify(r[1]!.reasons),
  );
  assert.equal(r[1]!.importWh, 1000, 'the held value is the trusted counter delta, glitches excluded');
  assert.equal(r[0]!.status, 'actual');
  assert.equal(r[2]!.status, 'actual');
  assert.equal(r[2]!.importWh, 1000);
  assert.deepEqual(
    r[2]!.reasons.map((x) => x.code),
    ['VEE_UNTRUSTED_BASELINE'],
  );
});

test('a consistent scale-factor change to 10 Wh steps: a 4 Wh step back is rounding, not backwards', () => {
  const rs = honest(30).map((r, m) =>
    m >= 10 ? { ...r, importWh: Math.floor(r.importWh! / 10) * 10, exportWh: Math.floor(r.exportWh! / 10) * 10 } : r,
  );
  rs[9] = { ...rs[9]!, importWh: 100_604 }; // 9 min × 66.67 = 600 → 100 600; make it 100 604 so the next (100 660) is ahead
  rs[10] = { ...rs[10]!, importWh: 100_600 }; // 4 Wh back at 10 Wh resolution
  const r = run(rs, 2);
  assert.deepEqual(
    r.map((e) => e.status),
    ['actual', 'actual'],
  );
  assert.equal(r[0]!.importWh + r[1]!.importWh, rs[30]!.importWh! - rs[0]!.importWh!);
});

test('a counter reset to 0: that interval held (backwards), the next actual from the new counter', () => {
  const rs = honest(45).map((r, m) => (m >= 20 ? { ...r, importWh: r.importWh! - 100_000 - 1333 + 5 } : r));
  const r = run(rs, 3);
  assert.equal(r[1]!.status, 'held');
  assert.ok(
    r[1]!.reasons.some(
      (x) =>
        x.code === 'VEE_COUNTER_BACKWARDS' &&
        x.message.includes('101266') &&
        x.message.includes('more than its 1 Wh resolution'),
    ),
  );
  assert.equal(r[0]!.status, 'actual');
  assert.equal(r[2]!.status, 'actual');
  assert.equal(r[2]!.importWh, 1000);
});

test('offline for three intervals: the bracketed counter delta is apportioned over them by time and estimated', () => {
  const rs = honest(75).filter((_, m) => m <= 14 || m >= 61);
  const r = run(rs, 5);
  assert.deepEqual(
    r.map((e) => e.status),
    ['estimated', 'estimated', 'estimated', 'estimated', 'estimated'],
  );
  assert.ok(r.every((e) => e.method === 'time-apportioned' && e.reasons[0]!.code === 'VEE_GAP'));
  assert.equal(
    r.reduce((s, e) => s + e.importWh, 0),
    rs.at(-1)!.importWh! - rs[0]!.importWh!,
  );
  assert.deepEqual(
    r.slice(1, 4).map((e) => e.importWh),
    [1000, 1000, 1000],
  );
});

test('a counter running 10× fast is held above rated power', () => {
  const r = run(honest(30, 40_000), 2);
  assert.deepEqual(
    r.map((e) => e.status),
    ['held', 'held'],
  );
  assert.ok(r[0]!.reasons.some((x) => x.code === 'VEE_ABOVE_RATED_POWER' && x.message.includes('5000 W rated')));
});

test('frozen: judged on market time and resolution, not on polls', () => {
  const stuck = honest(30).map((r, m) => (m >= 3 ? { ...r, importWh: 100_200 } : r));
  const r = run(stuck, 2);
  assert.equal(r[0]!.status, 'held');
  assert.ok(r[0]!.reasons.some((x) => x.code === 'VEE_COUNTER_FROZEN'));
  // 100 Wh resolution at 500 W: a step every 12 minutes is healthy
  const coarse: SeriesReading[] = [];
  for (let m = 0; m <= 30; m++)
    coarse.push({
      ts: T0 + m * MIN,
      importWh: 100_000 + Math.floor((500 * m) / 60 / 100) * 100,
      exportWh: 0,
      powerW: 500,
      resolutionWh: 100,
    });
  assert.deepEqual(
    run(coarse, 2).map((e) => e.status),
    ['actual', 'actual'],
  );
  // polled every 5 s of market time with a counter that moves each minute: fine
  const dense: SeriesReading[] = [];
  for (let s = 0; s <= 1800; s += 5)
    dense.push({
      ts: T0 + s * 1000,
      importWh: 100_000 + Math.floor((4000 * Math.floor(s / 60)) / 60),
      exportWh: 0,
      powerW: 4000,
    });
  assert.deepEqual(
    run(dense, 2).map((e) => e.status),
    ['actual', 'actual'],
  );
});

test('the first-ever reading inside the interval: partial, no failure reason', () => {
  const rs = honest(30).slice(4);
  const r = run(rs, 2);
  assert.equal(r[0]!.status, 'partial');
  assert.equal(r[0]!.importWh, rs.find((x) => x.ts === T0 + INTERVAL)!.importWh! - rs[0]!.importWh!);
  assert.deepEqual(
    r[0]!.reasons.map((x) => x.code),
    ['VEE_FIRST_READING'],
  );
  assert.equal(r[1]!.status, 'actual');
});

test('no trusted reading after the end yet: held with the gap', () => {
  const r = run(honest(20), 2);
  assert.equal(r[1]!.status, 'held');
  assert.ok(r[1]!.reasons.some((x) => x.code === 'VEE_GAP' && x.message.includes('no trusted reading at or after')));
});

test('a lone spike that comes back is an outlier, not energy', () => {
  const rs = honest(30);
  rs[5] = { ...rs[5]!, importWh: rs[5]!.importWh! + 70_000 };
  const r = run(rs, 2);
  assert.equal(r[0]!.status, 'held');
  assert.equal(r[0]!.importWh, 1000);
  assert.ok(r[0]!.reasons.some((x) => x.code === 'VEE_ABOVE_RATED_POWER'));
  assert.equal(r[1]!.status, 'actual');
});

test('a counter reset: the step across it estimated (power, else the rate before, capped at rated power), Σ energies = before-part + estimate + after-part', () => {
  // 4,000 W for an hour; the counter restarts at minute 20.5 from 0: the reading at minute 21 shows what it counted
  // since.
  const rs = honest(60).map((r) => {
    const m = (r.ts - T0) / MIN;
    return m >= 21 ? { ...r, importWh: Math.floor((4000 * (m - 20.5)) / 60) } : r;
  });
  const at = (k: number) => rs[k]!.importWh!;
  const before = at(20) - at(0);
  const after = at(60) - at(21);
  const sum = (xs: { importWh: number }[]) => xs.reduce((s, e) => s + e.importWh, 0);

  // By the power readings: (4000 W + 4000 W) / 2 × 60 s = 66 Wh (the true 66.67 floored).
  const r = run(rs, 4);
  assert.deepEqual(
    r.map((e) => e.status),
    ['actual', 'held', 'actual', 'actual'],
  );
  assert.equal(sum(r), before + 66 + after);
  const note = r[1]!.reasons.find((x) => x.code === 'VEE_RESET_ESTIMATED');
  assert.ok(
    note && /estimated at 66 Wh \(by the power readings: \(4000 W \+ 4000 W\) \/ 2 over 60 s\)/.test(note.message),
    JSON.stringify(r[1]!.reasons),
  );
  assert.ok(r[1]!.reasons.some((x) => x.code === 'VEE_COUNTER_BACKWARDS'));
  assert.equal(
    r[1]!.importWh,
    999,
    'the reset interval: 15 min at 4 kW is 1000 Wh; the estimate floors 66.67 Wh to 66',
  );

  // No power on the reading after the reset: the counter's rate over the trusted step before (1266 → 1333 Wh: 67 Wh a
  // minute).
  const noPower = rs.map((x, k) => (k === 21 ? { ...x, powerW: null } : x));
  const r2 = run(noPower, 4);
  assert.equal(sum(r2), before + 67 + after);
  assert.match(
    r2[1]!.reasons.find((x) => x.code === 'VEE_RESET_ESTIMATED')!.message,
    /estimated at 67 Wh \(at the rate before: 67 Wh in 60 s, over 60 s\)/,
  );

  // A power reading beyond what the meter can do: the estimate is capped at rated × (1 + margin) × time.
  const wild = rs.map((x, k) => (k === 20 ? { ...x, powerW: 90_000 } : x));
  const r3 = run(wild, 4);
  assert.match(
    r3[1]!.reasons.find((x) => x.code === 'VEE_RESET_ESTIMATED')!.message,
    /estimated at 91 Wh .*capped at 5000 W rated × \(1 \+ 0\.1\)/,
  );
  assert.equal(sum(r3), before + 91 + after);
});
