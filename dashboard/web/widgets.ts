import type { AlarmEvent } from '../../core/events.js';
import { currentAlarms, type LiveState } from '../live/model.js';
import { get, downloadCsv } from './api.js';
import { h, replace, table, time, kwh, watts } from './dom.js';
import { energyChart, type EnergyRow } from './charts.js';

/** Widgets shared by the views. Each renders into an element it is given. */

export function balanceStrip(el: HTMLElement, s: LiveState): void {
  const b = s.balance;
  const pct = b.selfSufficiency === null ? '—' : `${Math.round(b.selfSufficiency * 100)} %`;
  const item = (label: string, value: string, key: string) =>
    h('div.kpi', { 'data-kpi': key }, h('span.label', {}, label), h('span.value', {}, value));
  replace(
    el,
    item('grid import', watts(b.gridImportW), 'import'),
    item('grid export', watts(b.gridExportW), 'export'),
    item('self-sufficiency', pct, 'self'),
    item(
      `traded locally${b.lastClearedInterval ? `, ${time(b.lastClearedInterval).slice(11, 16)}` : ''}`,
      kwh(b.tradedWhInterval),
      'traded-interval',
    ),
    item('traded locally, today (UTC)', kwh(b.tradedWhToday), 'traded-today'),
    item(
      'last clearing price',
      b.lastClearingPrice === null ? '—' : `${b.lastClearingPrice} ${s.currency}/kWh`,
      'price',
    ),
    item('current interval', `${time(s.currentInterval)} · ${s.currentIntervalState ?? '—'}`, 'interval'),
    item('meters reporting', `${b.metersReporting} / ${b.metersKnown}`, 'meters'),
  );
}

/**
 * Alarms: those still in force first (model.ts `currentAlarms`: one per
 * subject, ended by a recovery, an online device or a later metered
 * interval), then the history of every alarm the stream brought, newest
 * first. One format for both.
 */
export function alarmList(el: HTMLElement, s: LiveState): void {
  const current = currentAlarms(s);
  const item = (a: AlarmEvent) =>
    h(
      `li.${a.severity}`,
      { 'data-code': a.code, 'data-subject': a.subject },
      h('b', {}, a.code),
      ' ',
      a.message,
      ' ',
      h('small', {}, time(a.at)),
    );
  const history = s.alarms.slice(0, 20);
  replace(
    el,
    current.length === 0
      ? h('p.ok', {}, 'No alarms in force.')
      : h('ul.alarms.current', {}, ...current.slice(0, 20).map(item)),
    history.length === 0
      ? null
      : h(
          'h3.alarm-history',
          {},
          `History: ${s.alarms.length} alarm${s.alarms.length === 1 ? '' : 's'} since the server started, newest first`,
        ),
    history.length === 0 ? null : h('ul.alarms.history', {}, ...history.map(item)),
  );
}

/** Device tiles: status, last poll (moved by every reading, model.ts), and the error only while it is not online. */
export function deviceTiles(el: HTMLElement, s: LiveState): void {
  const devices = Object.values(s.devices).sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  if (devices.length === 0) {
    replace(
      el,
      h('p.empty', {}, 'No device health reported yet: the meter bridge sends it once it polls its devices.'),
    );
    return;
  }
  replace(
    el,
    ...devices.map((d) =>
      h(
        `div.tile.${d.status}`,
        { 'data-device': d.deviceId },
        h('b', {}, d.deviceId),
        h('span.status', {}, d.status),
        h('small.poll', {}, `last poll ${time(d.lastPollAt)}`),
        d.status !== 'online' && d.lastError ? h('small.error', {}, d.lastError) : null,
      ),
    ),
  );
}

const RANGES = { '6h': 6 * 3600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;

/**
 * Energy history with a time range, a bucket, "compare with the previous
 * period" and a CSV of exactly what is shown. Times follow the market clock
 * (the demo's runs faster than the wall).
 */
export function historyPanel(el: HTMLElement, extraQuery = ''): () => Promise<void> {
  const range = h(
    'select',
    { 'aria-label': 'time range' },
    ...Object.keys(RANGES).map((k) => h('option', { value: k, ...(k === '24h' ? { selected: true } : {}) }, k)),
  );
  const bucket = h(
    'select',
    { 'aria-label': 'bucket' },
    ...['raw', '15m', '1h', '1d'].map((b) => h('option', { value: b, ...(b === 'raw' ? { selected: true } : {}) }, b)),
  );
  const compare = h('input', { type: 'checkbox', 'aria-label': 'compare with previous period' });
  const chart = h('div.chart');
  const note = h('p.note');
  let url = '';
  const csv = h('button', { onclick: () => void downloadCsv(url, 'energy') }, 'CSV');
  replace(
    el,
    h(
      'div.controls',
      {},
      'range ',
      range,
      ' bucket ',
      bucket,
      h('label', {}, compare, ' compare with previous period'),
      csv,
    ),
    chart,
    note,
  );
  const load = async (): Promise<void> => {
    const health = await get<{ now: string; intervalMinutes: number }>('/api/health');
    const now = Date.parse(health.now);
    const span = RANGES[range.value as keyof typeof RANGES];
    const bucketMs =
      bucket.value === 'raw'
        ? health.intervalMinutes * 60_000
        : ({ '15m': 15 * 60_000, '1h': 3_600_000, '1d': 86_400_000 }[bucket.value] ?? 3_600_000);
    const q = (from: number, to: number) =>
      `/api/energy?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&bucket=${bucket.value}${extraQuery}`;
    url = q(now - span, now);
    try {
      const rows = await get<EnergyRow[]>(url);
      const prev = compare.checked ? await get<EnergyRow[]>(q(now - 2 * span, now - span)) : null;
      if (rows.length === 0) {
        chart.replaceChildren();
        note.textContent = 'No interval energy in this range yet: it is written when an interval is metered.';
        return;
      }
      // The chart spans the range asked for or, when the ledger's energy begins later (a demo
      // started an hour ago), from where it begins: a 24 h axis with one hour of data at its right
      // edge shows nothing readable.
      const first = Math.min(...rows.map((r) => Date.parse(r.start)));
      const from = Math.max(now - span, first);
      const since =
        from > now - span ? `since ${time(new Date(first).toISOString())}, where the ledger's energy begins: ` : '';
      note.textContent = `${since}${rows.length} buckets, ${kwh(rows.reduce((a, r) => a + r.consumptionWh, 0))} consumed, ${kwh(rows.reduce((a, r) => a + r.generationWh, 0))} generated`;
      energyChart(chart, rows, prev, span, { from, to: Math.max(now, first + bucketMs) }, bucketMs);
    } catch (e) {
      note.textContent = `Cannot load the energy history: ${(e as Error).message}`;
    }
  };
  for (const c of [range, bucket, compare]) c.addEventListener('change', () => void load());
  void load();
  return load;
}

export function csvButton(url: () => string, name: string): HTMLElement {
  return h('button.csv', { onclick: () => void downloadCsv(url(), name) }, 'CSV');
}

export { table };
