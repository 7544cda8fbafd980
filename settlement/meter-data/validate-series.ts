import type {
  MeterDataReason,
  MeterDataRules,
  MeterDataStatus,
  MeterIntervalEnergy,
  ValidateMeterSeriesInput,
} from './types.js';
import { DEFAULT_METER_DATA_RULES, ESTIMATION_METHOD, VEE_CODES } from './rules.js';
import { seriesTrust, type Field, type HoldSpan, type TrustedPoint } from './series-trust.js';

/**
 * Validation and estimation of one meter's interval energies (pure: no SQL,
 * no clock). Each interval's energy is the adjusted counter of the trusted
 * readings (series-trust.ts) at its end minus at its start, the value at a
 * boundary interpolated linearly between the trusted readings around it and
 * floored to whole Wh. So a gap is apportioned over the intervals it spans by
 * time, and consecutive intervals add up to the counter delta exactly (the
 * floors telescope), whatever their status.
 *
 * Status, strongest first: held (a rule failed in the interval, or it is not
 * bracketed by trusted readings yet), estimated (trusted readings bracket it
 * but leave a gap longer than maxGapMs), partial (the meter's first-ever
 * reading is inside it), actual.
 */
export function validateMeterSeries(input: ValidateMeterSeriesInput): MeterIntervalEnergy[] {
  const rules: MeterDataRules = { ...DEFAULT_METER_DATA_RULES, ...input.rules };
  const trust = seriesTrust(input.readings, input.ratedPowerW, rules);
  const T = trust.trusted;
  const holds: HoldSpan[] = [...trust.events, ...frozenSpans(T, trust.fields, rules)];
  const gaps: HoldSpan[] = [];
  for (let i = 1; i < T.length; i++) {
    const a = T[i - 1]!;
    const b = T[i]!;
    if (b.ts - a.ts > rules.maxGapMs) {
      gaps.push({
        from: a.ts,
        to: b.ts,
        code: VEE_CODES.gap,
        message: `no trusted reading for ${Math.round((b.ts - a.ts) / 1000)} s (${iso(a.ts)} → ${iso(b.ts)}), more than ${Math.round(rules.maxGapMs / 1000)} s`,
      });
    }
  }
  const earliest = input.readings.reduce((m, r) => Math.min(m, r.ts), Infinity);

  return input.intervals.map((s): MeterIntervalEnergy => {
    const e = s + input.intervalMs;
    const held: MeterDataReason[] = [];
    const info: MeterDataReason[] = [];
    const gapReasons: MeterDataReason[] = [];
    let partial = false;
    const result = (importWh: number, exportWh: number): MeterIntervalEnergy => {
      const status: MeterDataStatus =
        held.length > 0 ? 'held' : gapReasons.length > 0 ? 'estimated' : partial ? 'partial' : 'actual';
      return {
        intervalStart: s,
        meterId: input.meterId,
        importWh,
        exportWh,
        status,
        reasons: dedupe([...held, ...gapReasons, ...info]),
        method: status === 'estimated' ? ESTIMATION_METHOD : null,
      };
    };
    if (T.length === 0) {
      if (earliest >= e || input.readings.length === 0) {
        partial = true;
        info.push({ code: VEE_CODES.firstReading, message: `no reading of the meter yet by ${iso(e)}` });
      } else
        held.push({ code: VEE_CODES.gap, message: `no trusted reading of the meter around ${iso(s)} → ${iso(e)}` });
      return result(0, 0);
    }
    const first = T[0]!;
    const last = T.at(-1)!;
    let startAdj: Record<Field, number>;
    if (first.ts <= s) startAdj = valueAt(T, s);
    else if (earliest >= s) {
      // The meter's first-ever reading is inside (or after) the interval: measured from there on.
      partial = true;
      startAdj = first.adj;
      info.push({
        code: VEE_CODES.firstReading,
        message: `first reading of the meter at ${iso(first.ts)}; the interval is covered from then on`,
      });
    } else {
      startAdj = first.adj;
      held.push({
        code: VEE_CODES.untrustedBaseline,
        message: `no trusted reading at or before ${iso(s)}; the first trusted one is at ${iso(first.ts)}`,
      });
    }
    let endAdj: Record<Field, number>;
    if (last.ts >= e) endAdj = valueAt(T, e);
    else {
      endAdj = last.ts > s ? last.adj : startAdj;
      held.push({
        code: VEE_CODES.gap,
        message: `no trusted reading at or after ${iso(e)} yet; the last trusted one is at ${iso(last.ts)}`,
      });
    }
    if (first.ts >= e) endAdj = startAdj;
    const importWh = Math.max(0, endAdj.importWh - startAdj.importWh);
    const exportWh = Math.max(0, endAdj.exportWh - startAdj.exportWh);

    for (const h of holds) if (h.from < e && h.to > s) held.push({ code: h.code, message: h.message });
    // (s, e]: a failed reading at a boundary belongs to the interval it would have ended; the next one starts from the
    // trusted counter.
    for (const o of trust.outliers) if (o.ts > s && o.ts <= e) held.push({ code: o.code, message: o.message });
    for (const g of gaps) if (g.from < e && g.to > s) gapReasons.push({ code: g.code, message: g.message });
    // Energy across a counter reset is estimated: said on every interval the estimate is apportioned to.
    for (const r of trust.resetEstimates)
      if (r.from < e && r.to > s) info.push({ code: VEE_CODES.resetEstimated, message: r.message });
    // The reading this interval would have started from failed: it starts from the trusted counter instead.
    const lastBefore = trust.usableTs.filter((t) => t <= s).at(-1);
    if (lastBefore !== undefined && trust.outliers.some((o) => o.ts === lastBefore)) {
      info.push({
        code: VEE_CODES.untrustedBaseline,
        message: `the reading at ${iso(lastBefore)} failed validation; the interval starts from the trusted counter at ${iso(s)}`,
      });
    }

    const res = Math.max(
      ...T.filter((p) => p.ts >= s - rules.maxGapMs && p.ts <= e + rules.maxGapMs).map((p) => p.res),
      1,
    );
    const maxWh = Math.floor((input.ratedPowerW * (1 + rules.ratedPowerMargin) * input.intervalMs) / 3_600_000) + res;
    for (const [f, wh] of [
      ['importWh', importWh],
      ['exportWh', exportWh],
    ] as const) {
      if (wh > maxWh) {
        held.push({
          code: VEE_CODES.aboveRatedPower,
          message: `${f} ${wh} Wh in ${input.intervalMs / 60_000} min is above ${input.ratedPowerW} W rated × (1 + ${rules.ratedPowerMargin}) + ${res} Wh = ${maxWh} Wh`,
        });
      }
    }
    return result(importWh, exportWh);
  });
}

const iso = (t: number): string => new Date(t).toISOString();

function dedupe(rs: MeterDataReason[]): MeterDataReason[] {
  const seen = new Set<string>();
  return rs.filter((r) => {
    const k = `${r.code}\u0000${r.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The adjusted counter at t, between the trusted points around it, floored
 * to whole Wh. BigInt: counter × elapsed ms passes 2^53 for large counters.
 */
function valueAt(T: readonly TrustedPoint[], t: number): Record<Field, number> {
  let lo = 0;
  let hi = T.length - 1;
  if (t <= T[0]!.ts) return T[0]!.adj;
  if (t >= T[hi]!.ts) return T[hi]!.adj;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (T[mid]!.ts <= t) lo = mid;
    else hi = mid;
  }
  const a = T[lo]!;
  const b = T[hi]!;
  const at = (f: Field): number => {
    const span = BigInt(b.ts - a.ts);
    if (span === 0n) return b.adj[f];
    const num = BigInt(a.adj[f]) * span + BigInt(b.adj[f] - a.adj[f]) * BigInt(t - a.ts);
    return Number(num / span);
  };
  return { importWh: at('importWh'), exportWh: at('exportWh') };
}

/**
 * Spans where a counter stood still while its power said at least max(2 × resolution, frozenFloorWh) flowed, for
 * frozenMinMs of market time or more.
 */
function frozenSpans(T: readonly TrustedPoint[], fields: readonly Field[], rules: MeterDataRules): HoldSpan[] {
  const out: HoldSpan[] = [];
  for (const f of fields) {
    let runStart = 0;
    let expectedWh = 0;
    const close = (endIdx: number): void => {
      const a = T[runStart]!;
      const b = T[endIdx]!;
      const need = Math.max(2 * Math.max(a.res, b.res), rules.frozenFloorWh);
      if (b.ts - a.ts >= rules.frozenMinMs && expectedWh >= need) {
        out.push({
          from: a.ts,
          to: b.ts,
          code: VEE_CODES.counterFrozen,
          message: `${f} stayed at ${a.raw[f]} Wh for ${Math.round((b.ts - a.ts) / 1000)} s (${iso(a.ts)} → ${iso(b.ts)}) while power says ${Math.round(expectedWh)} Wh flowed (at least ${need} Wh calls it frozen)`,
        });
      }
    };
    for (let i = 1; i < T.length; i++) {
      const p = T[i - 1]!;
      const c = T[i]!;
      if (c.raw[f] !== T[runStart]!.raw[f]) {
        close(i - 1);
        runStart = i;
        expectedWh = 0;
        continue;
      }
      if (p.powerW !== null && c.powerW !== null) {
        const flow = (w: number): number => (f === 'importWh' ? Math.max(0, w) : Math.max(0, -w));
        // "At least": the smaller of the two samples, so a flow that starts or stops between them is not counted.
        expectedWh += Math.min(flow(p.powerW), flow(c.powerW)) * ((c.ts - p.ts) / 3_600_000);
      }
    }
    if (T.length > 0) close(T.length - 1);
  }
  return out;
}
