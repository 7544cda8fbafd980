import type { AlarmEvent } from '../../core/events.js';
import type { LiveState } from '../live/model.js';
import { get, downloadCsv } from './api.js';
import { h, replace, table, time, kwh, watts } from './dom.js';
import { energyChart, type EnergyRow } from './charts.js';

/** Widgets shared by the views. Each renders into an element it is given. */

export function balanceStrip(el: HTMLElement, s: LiveState): void {
  const b = s.balance;
  const pct = b.selfSufficiency === null ? '—' : `${Math.round(b.selfSufficiency * 100)} %`;
  const item = (label: string, value: string, key: string) => h('div.kpi', { 'data-kpi': key }, h('span.label', {}, label), h('span.value', {}, value));
  replace(
    el,
    item('grid import', watts(b.gridImportW), 'import'),
    item('grid export', watts(b.gridExportW), 'export'),
    item('self-sufficiency', pct, 'self'),
    item(`traded locally${b.lastClearedInterval ? `, ${time(b.lastClearedInterval).slice(11, 16)}` : ''}`, kwh(b.tradedWhInterval), 'traded-interval'),
    item('traded locally, today (UTC)', kwh(b.tradedWhToday), 'traded-today'),
    item('last clearing price', b.lastClearingPrice === null ? '—' : `${b.lastClearingPrice} ${s.currency}/kWh`, 'price'),
    item('current interval', `${time(s.currentInterval)} · ${s.currentIntervalState ?? '—'}`, 'interval'),
    item('meters reporting', `${b.metersReporting} / ${b.metersKnown}`, 'meters'),
  );
}

/** Alarms first: the stream's alarms, plus devices that are stale or offline and settlements that failed. */
export function alarmList(el: HTMLElement, s: LiveState): void {
  const derived: AlarmEvent[] = [
    ...Object.values(s.devices)
      .filter((d) => d.status !== 'online')
      .map((d) => ({ type: 'alarm' as const, severity: d.status === 'offline' ? ('critical' as const) : ('warning' as const), code: `DEVICE_${d.status.toUpperCase()}`, message: `${d.deviceId} is ${d.status}${d.lastError ? `: ${d.lastError}` : ''}`, subject: d.deviceId, at: d.lastPollAt ?? '' })),
    ...s.settlements.filter((x) => x.state === 'error' || x.state.endsWith(':reverted')).map((x) => ({ type: 'alarm' as const, severity: 'critical' as const, code: 'SETTLEMENT_FAILED', message: `settlement of ${x.interval} ${x.state}`, subject: x.interval, at: '' })),
  ];
  const all = [...derived, ...s.alarms];
  const rank = { critical: 0, warning: 1, info: 2 } as const;
  all.sort((a, b) => rank[a.severity] - rank[b.severity]);
  if (all.length === 0) {
    replace(el, h('p.ok', {}, 'No alarms.'));
    return;
  }
  replace(el, h('ul.alarms', {}, ...all.slice(0, 20).map((a) => h(`li.${a.severity}`, {}, h('b', {}, a.code), ' ', a.message, ' ', h('small', {}, time(a.at))))));
}

export function deviceTiles(el: HTMLElement, s: LiveState): void {
  const devices = Object.values(s.devices).sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  if (devices.length === 0) {
    replace(el, h('p.empty', {}, 'No device health reported yet: the meter bridge sends it once it polls its devices.'));
    return;
  }
  replace(el, ...devices.map((d) => h(`div.tile.${d.status}`, { 'data-device': d.deviceId }, h('b', {}, d.deviceId), h('span', {}, d.status), h('small', {}, `last poll ${time(d.lastPollAt)}`), d.lastError ? h('small.error', {}, d.lastError) : null)));
}

const RANGES = { '6h': 6 * 3600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;

/**
 * Energy history with a time range, a bucket, "compare with the previous
 * period" and a CSV of exactly what is shown. Times follow the market clock
 * (the demo's runs faster than the wall).
 */
export function historyPanel(el: HTMLElement, extraQuery = ''): () => Promise<void> {
  const range = h('select', { 'aria-label': 'time range' }, ...Object.keys(RANGES).map((k) => h('option', { value: k, ...(k === '24h' ? { selected: true } : {}) }, k)));
  const bucket = h('select', { 'aria-label': 'bucket' }, ...['raw', '15m', '1h', '1d'].map((b) => h('option', { value: b, ...(b === 'raw' ? { selected: true } : {}) }, b)));
  const compare = h('input', { type: 'checkbox', 'aria-label': 'compare with previous period' });
  const chart = h('div.chart');
  const note = h('p.note');
  let url = '';
  const csv = h('button', { onclick: () => void downloadCsv(url, 'energy') }, 'CSV');
  replace(el, h('div.controls', {}, 'range ', range, ' bucket ', bucket, h('label', {}, compare, ' compare with previous period'), csv), chart, note);
  const load = async (): Promise<void> => {
    const now = Date.parse((await get<{ now: string }>('/api/health')).now);
    const span = RANGES[range.value as keyof typeof RANGES];
    const q = (from: number, to: number) => `/api/energy?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&bucket=${bucket.value}${extraQuery}`;
    url = q(now - span, now);
    try {
      const rows = await get<EnergyRow[]>(url);
      const prev = compare.checked ? await get<EnergyRow[]>(q(now - 2 * span, now - span)) : null;
      if (rows.length === 0) {
        chart.replaceChildren();
        note.textContent = 'No interval energy in this range yet: it is written when an interval is metered.';
        return;
      }
      note.textContent = `${rows.length} buckets, ${kwh(rows.reduce((a, r) => a + r.consumptionWh, 0))} consumed, ${kwh(rows.reduce((a, r) => a + r.generationWh, 0))} generated`;
      energyChart(chart, rows, prev, span, { from: now - span, to: now });
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
