import type { LiveState, StreamFrame } from '../../live/model.js';
import { h, $ } from '../dom.js';
import { renderFlow } from '../flow.js';
import { LiveChart } from '../charts.js';
import { alarmList, balanceStrip, deviceTiles, historyPanel } from '../widgets.js';
import { curves, intervalHistory, lastMeteredInterval } from './intervals.js';
import { holdsPanel } from './holds.js';

export interface View {
  root: HTMLElement;
  update(state: LiveState, frame: StreamFrame): void;
}

/** The operator's page (and, without its device tiles, the public one). */
export function operatorView(opts: { public: boolean }): View {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.id = 'flow';
  const root = h(
    'main#operator',
    {},
    opts.public ? null : h('section', {}, h('h2', {}, 'Alarms'), h('div#alarms')),
    opts.public ? null : h('section.card', {}, h('h2', {}, 'Held meter data'), h('div#holds')),
    h('section', {}, h('div#balance.strip')),
    h(
      'section.row',
      {},
      h('div.card', {}, h('h2', {}, 'Power flow'), svg),
      h('div.card', {}, h('h2', {}, 'Live: generation, consumption, grid'), h('div#live-chart.chart')),
    ),
    h('section.card', {}, h('h2', {}, 'Energy history'), h('div#history')),
    h(
      'section.row',
      {},
      h('div.card', {}, h('h2', {}, 'Supply and demand: last cleared interval'), h('div#curves')),
      h('div.card', {}, h('h2', {}, 'Intervals'), h('div#intervals')),
    ),
    h('section.card', {}, h('div#interval-detail')),
    opts.public ? null : h('section.card', {}, h('h2', {}, 'Devices'), h('div#devices.tiles')),
  );
  let chart: LiveChart | null = null;
  let reloadIntervals: (() => Promise<void>) | null = null;
  let reloadHistory: (() => Promise<void>) | null = null;
  let reloadHolds: (() => Promise<void>) | null = null;
  let curvesFor: string | null | undefined;
  return {
    root,
    update(state, frame) {
      // Twelve intervals of market time: an hour with 5-minute intervals, whatever the demo's speed.
      chart ??= new LiveChart($('#live-chart', root), state.intervalMinutes * 60 * 12);
      reloadIntervals ??= intervalHistory($('#intervals', root), $('#interval-detail', root));
      reloadHistory ??= historyPanel($('#history', root));
      balanceStrip($('#balance', root), state);
      renderFlow(svg, state);
      chart.push(frame.market, state.balance);
      // How many points the live chart holds, for whoever checks the page (tests, a curious operator).
      $('#live-chart', root).dataset.points = String(chart.points);
      if (!opts.public) {
        alarmList($('#alarms', root), state);
        deviceTiles($('#devices', root), state);
        reloadHolds ??= holdsPanel($('#holds', root));
      }
      const lifecycle =
        frame.type === 'delta' &&
        frame.events.some(
          (e) => e.type === 'interval-cleared' || e.type === 'interval-state' || e.type === 'settlement-state',
        );
      if (lifecycle) void reloadIntervals();
      // A metering step is where holds appear and where the hold window estimates them.
      if (lifecycle && reloadHolds) void reloadHolds().catch(() => undefined);
      if (frame.type === 'delta' && frame.events.some((e) => e.type === 'interval-state' && e.state === 'metered'))
        void reloadHistory();
      // The curves follow the metered clearings: the first frame asks the ledger for the last one, each
      // metered interval-cleared event after that moves them on.
      const cleared =
        frame.type === 'delta'
          ? frame.events.filter((e) => e.type === 'interval-cleared' && e.kind === 'metered').at(-1)
          : undefined;
      if (cleared?.type === 'interval-cleared')
        void curves($('#curves', root), (curvesFor = cleared.interval), 'metered');
      else if (curvesFor === undefined) {
        curvesFor = null;
        void lastMeteredInterval().then((i) => curves($('#curves', root), curvesFor ?? (curvesFor = i), 'metered'));
      }
    },
  };
}
