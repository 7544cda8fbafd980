import uPlot from 'uplot';
import type { Balance } from '../live/model.js';

const COLORS = { generation: '#e0a100', consumption: '#3566c9', grid: '#b3364a', compare: '#999' };

function size(el: HTMLElement, h: number): { width: number; height: number } {
  return { width: Math.max(300, el.clientWidth - 10), height: h };
}

/**
 * Time axes in market time, UTC, as the rest of the page: ticks fall on UTC
 * boundaries (uPlot aligns them through `tzDate`) and read "08:45", with the
 * date where the day changes, never the browser's zone or "12pm"/":36.500".
 */
const pad = (n: number): string => String(n).padStart(2, '0');
export function utcTick(sec: number, withDate: boolean, withSeconds = false): string {
  const d = new Date(sec * 1000);
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${withSeconds ? `:${pad(d.getUTCSeconds())}` : ''}`;
  return withDate ? `${d.toISOString().slice(5, 10)} ${hm}` : hm;
}

/** The x axis of a time chart; the labels it drew are left on `el.dataset.xTicks` for whoever checks the page. */
function utcAxis(el: HTMLElement): uPlot.Axis {
  return {
    label: 'market time (UTC)',
    values: (_u, splits, _axis, _space, incr) => {
      const labels = splits.map((s, i) => {
        const day = Math.floor(s / 86_400);
        const dayChanged = i === 0 || day !== Math.floor(splits[i - 1]! / 86_400);
        return incr >= 86_400 ? new Date(s * 1000).toISOString().slice(5, 10) : utcTick(s, dayChanged, incr < 60);
      });
      el.dataset.xTicks = labels.join('|');
      return labels;
    },
  };
}

const timeOpts = { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') };
const timeSeries: uPlot.Series = {
  label: 'market time',
  value: (_u, v) => (v === null ? '--' : `${utcTick(v, true, true)} UTC`),
};

/**
 * Generation, consumption and net grid exchange from the stream, one point per
 * frame at the frame's market time, the last `keepS` market seconds (an
 * accelerated demo moves minutes of market time per wall second).
 */
export class LiveChart {
  readonly #plot: uPlot;
  readonly #data: [number[], (number | null)[], (number | null)[], (number | null)[]] = [[], [], [], []];
  readonly #keepS: number;

  constructor(el: HTMLElement, keepS: number) {
    this.#keepS = keepS;
    this.#plot = new uPlot(
      {
        ...size(el, 220),
        ...timeOpts,
        scales: { x: { time: true } },
        series: [
          timeSeries,
          { label: 'generation W', stroke: COLORS.generation, width: 2 },
          { label: 'consumption W', stroke: COLORS.consumption, width: 2 },
          { label: 'net grid W (+import)', stroke: COLORS.grid, width: 2 },
        ],
        axes: [utcAxis(el), { size: 60 }],
      },
      this.#data,
      el,
    );
  }

  /** `tMs`: the frame's market time (epoch ms). */
  push(tMs: number, b: Balance): void {
    const t = tMs / 1000;
    const [x, g, c, n] = this.#data;
    if (x.length && t <= x[x.length - 1]!) return;
    x.push(t);
    g.push(b.generationW);
    c.push(b.consumptionW);
    n.push(b.netGridW);
    while (x.length && x[0]! < t - this.#keepS) for (const a of this.#data) a.shift();
    this.#plot.setData(this.#data);
  }

  get points(): number {
    return this.#data[0].length;
  }
}

export interface EnergyRow {
  start: string;
  generationWh: number;
  consumptionWh: number;
  netGridWh: number;
}

/**
 * Energy history as steps, one per bucket from its start to its end (the last
 * bucket gets a closing point, or the step would end where it begins); with
 * `previous`, the previous period's consumption shifted onto this one.
 */
export function energyChart(
  el: HTMLElement,
  rowsIn: EnergyRow[],
  previous: EnergyRow[] | null,
  shiftMs: number,
  range: { from: number; to: number },
  bucketMs: number,
): uPlot {
  const last = rowsIn[rowsIn.length - 1];
  const rows = last
    ? [...rowsIn, { ...last, start: new Date(Date.parse(last.start) + bucketMs).toISOString() }]
    : rowsIn;
  const xs = rows.map((r) => Date.parse(r.start) / 1000);
  const prevBy = new Map((previous ?? []).map((r) => [Date.parse(r.start) + shiftMs, r.consumptionWh]));
  const data: uPlot.AlignedData = [
    xs,
    rows.map((r) => r.generationWh),
    rows.map((r) => r.consumptionWh),
    rows.map((r) => r.netGridWh),
  ];
  const series: uPlot.Series[] = [
    timeSeries,
    { label: 'generation Wh', stroke: COLORS.generation, width: 2, paths: uPlot.paths.stepped!({ align: 1 }) },
    { label: 'consumption Wh', stroke: COLORS.consumption, width: 2, paths: uPlot.paths.stepped!({ align: 1 }) },
    { label: 'net grid Wh', stroke: COLORS.grid, width: 2, paths: uPlot.paths.stepped!({ align: 1 }) },
  ];
  if (previous) {
    (data as (number | null)[][]).push(rows.map((r) => prevBy.get(Date.parse(r.start)) ?? null));
    series.push({
      label: 'consumption, previous period',
      stroke: COLORS.compare,
      width: 1,
      dash: [4, 4],
      paths: uPlot.paths.stepped!({ align: 1 }),
    });
  }
  el.replaceChildren();
  // The x axis spans the range asked for, not just the buckets that have data (one bucket would otherwise span years).
  // What the chart spans and holds, for whoever checks the page.
  Object.assign(el.dataset, {
    from: new Date(range.from).toISOString(),
    to: new Date(range.to).toISOString(),
    buckets: String(rowsIn.length),
    bucketMs: String(bucketMs),
  });
  return new uPlot(
    {
      ...size(el, 220),
      ...timeOpts,
      scales: { x: { time: true, range: () => [range.from / 1000, range.to / 1000] } },
      series,
      axes: [utcAxis(el), { size: 60 }],
    },
    data,
    el,
  );
}

export interface CurvePoint {
  price: string;
  cumulativeWh: number;
}

/** Supply (offers, rising) and demand (bids, falling) as step curves: x = cumulative kWh, y = price. */
export function curvesChart(
  el: HTMLElement,
  bids: CurvePoint[],
  offers: CurvePoint[],
  clearingPrice: string | null,
  matchedWh: number,
): uPlot {
  const xs = [...new Set([0, ...bids.map((b) => b.cumulativeWh), ...offers.map((o) => o.cumulativeWh)])].sort(
    (a, b) => a - b,
  );
  // The price in effect at cumulative x: the first step whose cumulative volume reaches x.
  const at = (pts: CurvePoint[], x: number): number | null => {
    const p = pts.find((q) => q.cumulativeWh >= x);
    return p ? Number(p.price) : null;
  };
  const data: uPlot.AlignedData = [xs.map((x) => x / 1000), xs.map((x) => at(bids, x)), xs.map((x) => at(offers, x))];
  el.replaceChildren();
  const cp = clearingPrice === null ? null : Number(clearingPrice);
  return new uPlot(
    {
      ...size(el, 220),
      scales: { x: { time: false } },
      series: [
        { label: 'kWh' },
        { label: 'demand (bids)', stroke: COLORS.consumption, width: 2, paths: uPlot.paths.stepped!({ align: -1 }) },
        { label: 'supply (offers)', stroke: COLORS.generation, width: 2, paths: uPlot.paths.stepped!({ align: -1 }) },
      ],
      axes: [{ label: 'cumulative kWh' }, { label: 'price per kWh', size: 60 }],
      hooks: {
        draw: [
          (u) => {
            if (cp === null) return;
            const cx = u.valToPos(matchedWh / 1000, 'x', true);
            const cy = u.valToPos(cp, 'y', true);
            u.ctx.fillStyle = '#b3364a';
            u.ctx.beginPath();
            u.ctx.arc(cx, cy, 6, 0, 2 * Math.PI);
            u.ctx.fill();
          },
        ],
      },
    },
    data,
    el,
  );
}
