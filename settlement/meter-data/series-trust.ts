import type { MeterDataRules, SeriesReading } from './types.js';
import { resolutionOf, VEE_CODES } from './rules.js';

/**
 * Which readings of one meter are trusted, and the meter's adjusted counter
 * through them. A reading is trusted when each of its counters is consistent
 * with the last trusted reading: not lower than the running peak by more than
 * the resolution (rounding), and not higher than rated power × elapsed market
 * time × (1 + margin) + resolution. A reading that is not, followed later by
 * one that is, is an outlier (a glitch that came back): it never becomes a
 * baseline. One that is not and is never contradicted starts a new epoch: a
 * reset (a step back that stays) or a lasting jump (counted as the counter
 * says). Either way the step is an event that holds the intervals it touches.
 * Across a reset the energy from the last reading before to the first after
 * is unknown to the counters: it is estimated (resetStepEstimate) and the
 * adjusted counter carries on from there, so a meter's energy across a reset
 * is before-part + estimate + after-part.
 */

export type Field = 'importWh' | 'exportWh';

export interface TrustedPoint {
  ts: number;
  /** Adjusted counter: monotone, continuous across resets, integer Wh. */
  adj: Record<Field, number>;
  raw: Record<Field, number>;
  res: number;
  powerW: number | null;
}

/** A span of market time (from, to] whose intervals are held for a rule. */
export interface HoldSpan {
  from: number;
  to: number;
  code: string;
  message: string;
}

export interface Outlier {
  ts: number;
  code: string;
  message: string;
}

/** The estimated energy of one counter across a reset, (from, to]. */
export interface ResetEstimate {
  from: number;
  to: number;
  field: Field;
  wh: number;
  /**
   * 'power': the mean of the power readings on both sides × time; 'rate': the counter's rate just before; 'none':
   * neither known (0).
   */
  how: 'power' | 'rate' | 'none';
  message: string;
}

export interface SeriesTrust {
  fields: Field[];
  trusted: TrustedPoint[];
  outliers: Outlier[];
  events: HoldSpan[];
  resetEstimates: ResetEstimate[];
  /** Timestamps of every usable reading (trusted or not), ascending. */
  usableTs: number[];
}

const iso = (t: number): string => new Date(t).toISOString();

interface State {
  ts: number;
  peak: Record<Field, number>;
  /** When each counter first showed its peak: a coarse counter that stood still may step by all the energy since. */
  since: Record<Field, number>;
  res: number;
}

type Check = { ok: true } | { ok: false; code: string; message: string };

export function seriesTrust(
  readings: readonly SeriesReading[],
  ratedPowerW: number,
  rules: MeterDataRules,
): SeriesTrust {
  const fields = (['importWh', 'exportWh'] as const).filter((f) => readings.some((r) => r[f] !== null));
  const usable = usableReadings(readings, fields);
  const out: SeriesTrust = {
    fields,
    trusted: [],
    outliers: [],
    events: [],
    resetEstimates: [],
    usableTs: usable.map((r) => r.ts),
  };
  if (usable.length === 0) return out;
  // A resolution inferred from the values must show on a neighbour too: a counter at 12 000 Wh alone does not make it a
  // 1 kWh counter.
  // By position in `usable`: each reading's resolution is computed once.
  const own = usable.map(resolutionOf);
  const resAt = usable.map((r, i) => {
    const reported = r.resolutionWh !== undefined && r.resolutionWh !== null && r.resolutionWh >= 1;
    const neighbour = i + 1 < own.length ? i + 1 : i - 1;
    return reported || neighbour < 0 ? own[i]! : Math.min(own[i]!, own[neighbour]!);
  });

  const check = (a: State, xi: number): Check => {
    const x = usable[xi]!;
    const resX = resAt[xi]!;
    const tol = Math.max(a.res, resX);
    for (const f of fields) {
      const dtH = Math.max(0, x.ts - a.since[f]) / 3_600_000;
      const maxStep = ratedPowerW * (1 + rules.ratedPowerMargin) * dtH + tol;
      const v = x[f]!;
      const peak = a.peak[f];
      const d = v - peak;
      if (d >= -tol && d <= maxStep) continue;
      // A jump by a power of ten that rescaled back lands within a plausible step of the peak: a scale-factor glitch.
      if (v > 0 && peak > 0) {
        const k = Math.round(Math.log10(v / peak));
        if (k !== 0) {
          const scaled = v / 10 ** k;
          const slack = k < 0 ? resX * 10 ** -k : tol;
          if (scaled - peak >= -slack && scaled - peak <= maxStep + slack) {
            return {
              ok: false,
              code: VEE_CODES.scaleFactorGlitch,
              message: `${f} read ${v} Wh at ${iso(x.ts)}, ×10^${k} of the trusted ${peak} Wh at ${iso(a.ts)}: a scale-factor change under an unchanged raw value, not energy`,
            };
          }
        }
      }
      if (d < -tol) {
        return {
          ok: false,
          code: VEE_CODES.counterBackwards,
          message: `${f} stepped back from ${peak} Wh (${iso(a.ts)}) to ${v} Wh (${iso(x.ts)}), ${-d} Wh, more than its ${tol} Wh resolution`,
        };
      }
      return {
        ok: false,
        code: VEE_CODES.aboveRatedPower,
        message: `${f} rose ${d} Wh in ${Math.round(dtH * 3600)} s (${iso(a.since[f])} → ${iso(x.ts)}), above ${ratedPowerW} W rated × (1 + ${rules.ratedPowerMargin}) + ${tol} Wh = ${Math.floor(maxStep)} Wh`,
      };
    }
    return { ok: true };
  };

  const stateOf = (i: number): State => {
    const r = usable[i]!;
    return {
      ts: r.ts,
      peak: { importWh: r.importWh ?? 0, exportWh: r.exportWh ?? 0 },
      since: { importWh: r.ts, exportWh: r.ts },
      res: resAt[i]!,
    };
  };

  // Anchor: the first reading a reading soon after it agrees with (a glitch at the very start is not a
  // baseline). Not only its successor: a good first reading followed at once by a glitch would be
  // dropped, and the energy from it to the next good one lost (Σ energies ≠ counter delta).
  const ANCHOR_LOOKAHEAD = 8;
  let anchor = usable.length - 1;
  search: for (let i = 0; i + 1 < usable.length; i++) {
    for (let j = i + 1; j < usable.length && j <= i + ANCHOR_LOOKAHEAD; j++) {
      if (check(stateOf(i), j).ok) {
        anchor = i;
        break search;
      }
    }
  }
  for (let i = 0; i < anchor; i++) {
    const c = check(stateOf(i), i + 1);
    out.outliers.push({
      ts: usable[i]!.ts,
      code: c.ok ? VEE_CODES.untrustedBaseline : c.code,
      message: `reading at ${iso(usable[i]!.ts)} disagrees with the readings after it${c.ok ? '' : `: ${c.message}`}`,
    });
  }

  // One state, moved along the trusted readings (not a new one per reading).
  const state = stateOf(anchor);
  const offset: Record<Field, number> = { importWh: 0, exportWh: 0 };
  const push = (i: number): void => {
    const r = usable[i]!;
    out.trusted.push({
      ts: r.ts,
      adj: { importWh: offset.importWh + state.peak.importWh, exportWh: offset.exportWh + state.peak.exportWh },
      raw: { importWh: r.importWh ?? 0, exportWh: r.exportWh ?? 0 },
      res: resAt[i]!,
      powerW: r.powerW,
    });
  };
  push(anchor);

  const raise = (f: Field, v: number, ts: number): void => {
    if (v > state.peak[f]) {
      state.peak[f] = v;
      state.since[f] = ts;
    }
  };

  let i = anchor + 1;
  while (i < usable.length) {
    const x = usable[i]!;
    const c = check(state, i);
    if (!c.ok) {
      let j = i + 1;
      while (j < usable.length && !check(state, j).ok) j++;
      if (j < usable.length) {
        // Outliers i..j-1: a later reading agrees with the last trusted one again.
        for (let k = i; k < j; k++) {
          const ck = check(state, k);
          out.outliers.push({
            ts: usable[k]!.ts,
            code: ck.ok ? c.code : ck.code,
            message: ck.ok ? c.message : ck.message,
          });
        }
        i = j;
        continue;
      }
      // Never contradicted: a new epoch. A field that stepped back restarts from its new value, the unknown step
      // estimated.
      out.events.push({ from: state.ts, to: x.ts, code: c.code, message: c.message });
      const prev = out.trusted.at(-1)!;
      const prevAdj = prev.adj;
      for (const f of fields) {
        const v = x[f]!;
        if (v < state.peak[f] - Math.max(state.res, resAt[i]!)) {
          const est = resetStepEstimate(f, out.trusted.at(-2), prev, x, v, ratedPowerW, rules);
          out.resetEstimates.push({
            from: prev.ts,
            to: x.ts,
            field: f,
            wh: est.wh,
            how: est.how,
            message: `${f} reset from ${state.peak[f]} Wh to ${v} Wh between ${iso(prev.ts)} and ${iso(x.ts)}: the energy across it is unknown to the counter, estimated at ${est.wh} Wh (${est.detail})`,
          });
          offset[f] = prevAdj[f] + est.wh - v;
          state.peak[f] = v;
          state.since[f] = x.ts;
        } else raise(f, v, x.ts);
      }
    } else {
      for (const f of fields) raise(f, x[f]!, x.ts);
    }
    state.ts = x.ts;
    state.res = resAt[i]!;
    push(i);
    i++;
  }
  return out;
}

/**
 * The readings that carry every field, one per timestamp (the first stored), ascending. A series read from the
 * ledger is already that (ordered by its primary key, both counters present), and is taken as it is: the map and
 * the sort are for anything else.
 */
function usableReadings(readings: readonly SeriesReading[], fields: readonly Field[]): readonly SeriesReading[] {
  if (fields.length === 0) return [];
  let asIs = true;
  for (let i = 0; asIs && i < readings.length; i++) {
    const r = readings[i]!;
    asIs =
      r[fields[0]!] !== null &&
      (fields.length === 1 || r[fields[1]!] !== null) &&
      (i === 0 || r.ts > readings[i - 1]!.ts);
  }
  if (asIs) return readings;
  const byTs = new Map<number, SeriesReading>();
  for (const r of readings) if (fields.every((f) => r[f] !== null) && !byTs.has(r.ts)) byTs.set(r.ts, r);
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

/**
 * The energy of one counter across a reset, (prev.ts, x.ts]: the mean of the
 * flows the two power readings say (import: positive W, export: negative W)
 * × the time between them; without both, the counter's own rate over the
 * trusted step just before; floored to whole Wh, at most rated power ×
 * (1 + margin) × the time. A counter that restarted from 0 and counted v
 * since has seen at least v (when v is possible in that time).
 */
export function resetStepEstimate(
  f: Field,
  before: TrustedPoint | undefined,
  prev: TrustedPoint,
  x: SeriesReading,
  v: number,
  ratedPowerW: number,
  rules: MeterDataRules,
): { wh: number; how: ResetEstimate['how']; detail: string } {
  const dt = x.ts - prev.ts;
  const maxWh = Math.floor((ratedPowerW * (1 + rules.ratedPowerMargin) * dt) / 3_600_000);
  const flow = (w: number): number => (f === 'importWh' ? Math.max(0, w) : Math.max(0, -w));
  let wh: number;
  let how: ResetEstimate['how'];
  let detail: string;
  if (prev.powerW !== null && x.powerW !== null) {
    const sum = flow(prev.powerW) + flow(x.powerW);
    wh = Math.floor((sum * dt) / 7_200_000);
    how = 'power';
    detail = `by the power readings: (${flow(prev.powerW)} W + ${flow(x.powerW)} W) / 2 over ${Math.round(dt / 1000)} s`;
  } else if (before && prev.ts > before.ts) {
    const d = prev.adj[f] - before.adj[f];
    wh = Math.floor((d * dt) / (prev.ts - before.ts));
    how = 'rate';
    detail = `at the rate before: ${d} Wh in ${Math.round((prev.ts - before.ts) / 1000)} s, over ${Math.round(dt / 1000)} s`;
  } else {
    wh = 0;
    how = 'none';
    detail = 'no power reading or rate to estimate it by';
  }
  if (v <= maxWh && wh < v) {
    wh = v;
    detail += `; at least the ${v} Wh the counter counted from 0`;
  }
  if (wh > maxWh) {
    wh = maxWh;
    detail += `; capped at ${ratedPowerW} W rated × (1 + ${rules.ratedPowerMargin})`;
  }
  return { wh: Math.max(0, wh), how, detail };
}
