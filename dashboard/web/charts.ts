import uPlot from 'uplot';
import type { Balance } from '../live/model.js';

const COLORS = { generation: '#e0a100', consumption: '#3566c9', grid: '#b3364a', compare: '#999' };

function size(el: HTMLElement, h: number): { width: number; height: number } {
  return { width: Math.max(300, el.clientWidth - 10), height: h };
}

/** Generation, consumption and net grid exchange from the stream, one point per frame, last `keepS` seconds. */
export class LiveChart {
  readonly #plot: uPlot;
  readonly #data: [number[], (number | null)[], (number | null)[], (number | null)[]] = [[], [], [], []];
  readonly #keepS: number;

  constructor(el: HTMLElement, keepS = 600) {
    this.#keepS = keepS;
    this.#plot = new uPlot(
      {
        ...size(el, 220),
        scales: { x: { time: true } },
        series: [
          {},
          { label: 'generation W', stroke: COLORS.generation, width: 2 },
          { label: 'consumption W', stroke: COLORS.consumption, width: 2 },
          { label: 'net grid W (+import)', stroke: COLORS.grid, width: 2 },
        ],
        axes: [{}, { size: 60 }],
      },
      this.#data,
      el,
    );
  }

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

/** Energy history bars as steps; with `previous`, the previous period's consumption shifted onto this one. */
export function energyChart(el: HTMLElement, rows: EnergyRow[], previous: EnergyRow[] | null, shiftMs: number, range: { from: number; to: number }): uPlot {
  const xs = rows.map((r) => Date.parse(r.start) / 1000);
  const prevBy = new Map((previous ?? []).map((r) => [Date.parse(r.start) + shiftMs, r.consumptionWh]));
  const data: uPlot.AlignedData = [xs, rows.map((r) => r.generationWh), rows.map((r) => r.consumptionWh), rows.map((r) => r.netGridWh)];
  const series: uPlot.Series[] = [
    {},
    { label: 'generation Wh', stroke: COLORS.generation, width: 2, paths: uPlot.paths.stepped!({ align: 1 }) },
    { label: 'consumption Wh', stroke: COLORS.consumption, width: 2, paths: uPlot.paths.stepped!({ align: 1 }) },
    { label: 'net grid Wh', stroke: COLORS.grid, width: 2, paths: uPlot.paths.stepped!({ align: 1 }) },
  ];
  if (previous) {
    (data as (number | null)[][]).push(rows.map((r) => prevBy.get(Date.parse(r.start)) ?? null));
    series.push({ label: 'consumption, previous period', stroke: COLORS.compare, width: 1, dash: [4, 4], paths: uPlot.paths.stepped!({ align: 1 }) });
  }
  el.replaceChildren();
  // The x axis spans the range asked for, not just the buckets that have data (one bucket would otherwise span years).
  return new uPlot({ ...size(el, 220), scales: { x: { time: true, range: () => [range.from / 1000, range.to / 1000] } }, series, axes: [{}, { size: 60 }] }, data, el);
}

export interface CurvePoint {
  price: string;
  cumulativeWh: number;
}

/** Supply (offers, rising) and demand (bids, falling) as step curves: x = cumulative kWh, y = price. */
export function curvesChart(el: HTMLElement, bids: CurvePoint[], offers: CurvePoint[], clearingPrice: string | null, matchedWh: number): uPlot {
  const xs = [...new Set([0, ...bids.map((b) => b.cumulativeWh), ...offers.map((o) => o.cumulativeWh)])].sort((a, b) => a - b);
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
