import { get } from '../api.js';
import { h, replace, table, time, kwh } from '../dom.js';
import { csvButton } from '../widgets.js';
import { curvesChart, type CurvePoint } from '../charts.js';

interface IntervalItem {
  start: string;
  state: string;
  clearingPrice: string | null;
  matchedWh: number;
  surplus: string;
  trades: number;
}

interface IntervalDetail {
  start: string;
  state: string;
  transitions: { state: string; at: string }[];
  clearings: { kind: string; mechanism: string; clearingPrice: string | null; matchedWh: number; surplus: string }[];
  trades: { kind: string; buyer: string | null; seller: string | null; energyWh: number; price: string; fee: string }[];
  statements: {
    participant: string;
    boughtWh: number;
    soldWh: number;
    gridImportWh: number;
    gridExportWh: number;
    net: string;
  }[];
  settlement: { action: string; state: string; txHash: string | null; error: string | null }[];
}

/** Interval history (price, volume, surplus); a row opens its trades, statements and transactions. */
export function intervalHistory(list: HTMLElement, detail: HTMLElement): () => Promise<void> {
  const load = async (): Promise<void> => {
    const rows = await get<IntervalItem[]>('/api/intervals?limit=48');
    replace(
      list,
      h(
        'div.controls',
        {},
        csvButton(() => '/api/intervals?limit=5000', 'intervals'),
      ),
      table(
        rows,
        [
          ['interval (UTC)', (r) => time(r.start)],
          ['state', (r) => h(`span.state.${r.state}`, {}, r.state)],
          ['price', (r) => r.clearingPrice ?? '—'],
          ['volume', (r) => kwh(r.matchedWh)],
          ['surplus', (r) => r.surplus],
          ['trades', (r) => r.trades],
        ],
        'No intervals yet.',
        (r) => void showInterval(detail, r.start),
      ),
    );
  };
  void load();
  return load;
}

export async function showInterval(el: HTMLElement, start: string, focusTx?: string): Promise<void> {
  const d = await get<IntervalDetail>(`/api/intervals/${start}`);
  replace(
    el,
    h('h3', {}, `Interval ${time(d.start)} · ${d.state}`),
    h('p.note', {}, d.transitions.map((t) => `${t.state} ${time(t.at)}`).join(' → ')),
    table(
      d.clearings,
      [
        ['kind', (c) => c.kind],
        ['mechanism', (c) => c.mechanism],
        ['price', (c) => c.clearingPrice ?? '—'],
        ['matched', (c) => kwh(c.matchedWh)],
        ['surplus', (c) => c.surplus],
      ],
      'Not cleared yet.',
    ),
    h('h4', {}, 'Trades'),
    table(
      d.trades,
      [
        ['kind', (t) => t.kind],
        ['seller', (t) => t.seller ?? 'a neighbour'],
        ['buyer', (t) => t.buyer ?? 'a neighbour'],
        ['energy', (t) => kwh(t.energyWh)],
        ['price', (t) => t.price],
        ['fee', (t) => t.fee],
      ],
      'No trades visible to you in this interval.',
    ),
    h('h4', {}, 'Statements'),
    table(
      d.statements,
      [
        ['participant', (s) => s.participant],
        ['bought', (s) => kwh(s.boughtWh)],
        ['sold', (s) => kwh(s.soldWh)],
        ['grid import', (s) => kwh(s.gridImportWh)],
        ['grid export', (s) => kwh(s.gridExportWh)],
        ['net', (s) => s.net],
      ],
      'No statements yet (written at settlement).',
    ),
    h('h4', {}, 'On chain'),
    table(
      d.settlement,
      [
        ['action', (j) => j.action],
        ['state', (j) => j.state],
        [
          'transaction',
          (j) => (j.txHash ? h(j.txHash === focusTx ? 'code.focus' : 'code', { 'data-tx': j.txHash }, j.txHash) : '—'),
        ],
        ['error', (j) => j.error ?? ''],
      ],
      d.state === 'committed' || d.state === 'final'
        ? 'No transaction: this interval had no credits to commit.'
        : 'Not submitted to the chain yet.',
    ),
  );
  el.scrollIntoView({ block: 'nearest' });
}

/**
 * Supply and demand curves of one interval's book with the clearing point. In
 * metered trading (the default) the book is the metered orders the meters made
 * of each participant's export and import, so the panel shows the last
 * interval cleared that way; forward orders have their own book.
 */
export async function curves(el: HTMLElement, interval: string | null, source: 'metered' | 'forward'): Promise<void> {
  if (!interval) {
    replace(
      el,
      h(
        'p.empty',
        {},
        'No interval cleared yet: the first metered clearing comes after the first interval ends and its readings are in.',
      ),
    );
    return;
  }
  const c = await get<{ bids: CurvePoint[]; offers: CurvePoint[]; clearingPrice: string | null; matchedWh: number }>(
    `/api/intervals/${interval}/curves?source=${source}`,
  );
  const title = h(
    'p.note',
    {},
    `${time(interval)}, ${source} book: `,
    h(
      'span.figures',
      {},
      `${c.offers.length} offer price${c.offers.length === 1 ? '' : 's'}, ${c.bids.length} bid price${c.bids.length === 1 ? '' : 's'}`,
    ),
  );
  if (c.bids.length === 0 && c.offers.length === 0) {
    replace(
      el,
      title,
      h(
        'p.empty',
        {},
        source === 'metered'
          ? 'Nobody exported or imported with good meter data in this interval: an empty book.'
          : 'No forward orders.',
      ),
    );
    return;
  }
  const chart = h('div.chart');
  replace(
    el,
    title,
    chart,
    h(
      'p.note',
      {},
      c.clearingPrice
        ? `cleared at ${c.clearingPrice} per kWh, ${kwh(c.matchedWh)} matched`
        : `no match: the highest bid is below the lowest offer (${kwh(c.matchedWh)} matched)`,
    ),
  );
  curvesChart(chart, c.bids, c.offers, c.clearingPrice, c.matchedWh);
}

/** The newest interval with a metered clearing in the ledger, or null. */
export async function lastMeteredInterval(): Promise<string | null> {
  const rows = await get<(IntervalItem & { kinds: string })[]>('/api/intervals?limit=48');
  return rows.find((r) => r.kinds.split('+').includes('metered'))?.start ?? null;
}
