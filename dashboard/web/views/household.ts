import { get, send, type Me } from '../api.js';
import { h, replace, table, time, kwh, watts, $ } from '../dom.js';
import { balanceStrip, csvButton, historyPanel, alarmList } from '../widgets.js';
import { showInterval } from './intervals.js';
import type { View } from './operator.js';
import type { ParticipantToday } from '../../participant-today.js';

interface Participant {
  id: string;
  name: string;
  minSellPrice: string | null;
  maxBuyPrice: string | null;
}

/** The day as GET /api/participants/:id/today serves it: the server's own type. */
type Today = Omit<ParticipantToday, 'participant' | 'to'>;

/** "+1.23" / "−0.40": the server's decimal string with its sign shown (no arithmetic in the page). */
const signed = (d: string): string => (d.startsWith('-') ? `−${d.slice(1)}` : `+${d}`);

const RANGE = () => `from=${new Date(Date.now() - 366 * 86_400_000).toISOString()}`;

/** A household's page: my surplus now, my standing prices, my orders, trades, statements and credits. */
export function householdView(me: Me): View {
  const pid = me.participant!;
  const root = h(
    'main#household',
    {},
    h('section', {}, h('div#alarms')),
    h('section.card', {}, h('h2', {}, 'Today with my neighbours'), h('div#today')),
    h(
      'section.row',
      {},
      h('div.card', {}, h('h2', {}, 'My surplus now'), h('div#my-surplus.big')),
      h('div.card', {}, h('h2', {}, 'My standing prices'), h('form#my-prices')),
    ),
    h('section', {}, h('div#balance.strip')),
    h('section.card', {}, h('h2', {}, 'My forward orders'), h('form#order-form'), h('div#my-orders')),
    h('section.card', {}, h('h2', {}, 'My trades'), h('div#my-trades')),
    h('section.card', {}, h('h2', {}, 'My statements'), h('div#my-statements')),
    h('section.card', {}, h('h2', {}, 'My energy credits'), h('div#my-credits')),
    h('section.card', {}, h('h2', {}, 'My energy'), h('div#history')),
    h('section.card', {}, h('div#interval-detail')),
  );
  const detail = () => $('#interval-detail', root);
  const msg = h('p.note');

  const loadPrices = async (): Promise<void> => {
    const p = await get<Participant>(`/api/participants/${pid}`);
    const sell = h('input', { name: 'minSellPrice', value: p.minSellPrice ?? '', placeholder: 'none', size: 8 });
    const buy = h('input', { name: 'maxBuyPrice', value: p.maxBuyPrice ?? '', placeholder: 'none', size: 8 });
    const form = $('#my-prices', root) as HTMLFormElement;
    replace(
      form,
      h('label', {}, 'sell surplus at least ', sell, ` ${me.currency}/kWh`),
      h('label', {}, 'buy deficit at most ', buy, ` ${me.currency}/kWh`),
      h('p.note', {}, `between ${me.priceFloor} and ${me.priceCap}`),
      h('button', { type: 'submit' }, 'Save'),
      msg,
    );
    form.onsubmit = (ev) => {
      ev.preventDefault();
      send('PUT', `/api/participants/${pid}/policy`, {
        minSellPrice: sell.value.trim() || null,
        maxBuyPrice: buy.value.trim() || null,
      })
        .then(() => (msg.textContent = 'Saved.'))
        .catch((e: Error) => (msg.textContent = e.message));
    };
  };

  const loadOrders = async (): Promise<void> => {
    const rows =
      await get<{ id: string; interval: string; side: string; energyWh: number; price: string; status: string }[]>(
        '/api/orders',
      );
    replace(
      $('#my-orders', root),
      h(
        'div.controls',
        {},
        csvButton(() => '/api/orders', 'orders'),
      ),
      table(
        rows,
        [
          ['interval', (o) => time(o.interval)],
          ['side', (o) => o.side],
          ['energy', (o) => kwh(o.energyWh)],
          ['price', (o) => o.price],
          ['status', (o) => o.status],
          [
            '',
            (o) =>
              o.status === 'open'
                ? h(
                    'button',
                    {
                      onclick: () =>
                        void send('DELETE', `/api/orders/${o.id}`).then(loadOrders, (e: Error) => alert(e.message)),
                    },
                    'cancel',
                  )
                : '',
          ],
        ],
        'No forward orders.',
      ),
    );
  };

  const orderForm = (): void => {
    const side = h(
      'select',
      { name: 'side' },
      h('option', { value: 'offer' }, 'offer (sell)'),
      h('option', { value: 'bid' }, 'bid (buy)'),
    );
    const interval = h('input', { name: 'interval', placeholder: 'interval start, UTC', size: 22 }) as HTMLInputElement;
    // The first interval still open for orders, by the market's clock (an accelerated demo runs ahead of the wall
    // clock).
    void get<{ now: string; currentInterval: string; intervalMinutes: number }>('/api/health').then(
      (hl) => {
        const step = hl.intervalMinutes * 60_000;
        const now = Date.parse(hl.now);
        let start = Date.parse(hl.currentInterval) + step;
        while (start - me.gateClosureSeconds * 1000 <= now) start += step;
        const iso = new Date(start).toISOString().replace('.000Z', 'Z');
        interval.placeholder = iso;
        if (interval.value === '') interval.value = iso;
      },
      () => undefined,
    );
    const wh = h('input', { name: 'energyWh', placeholder: 'Wh', size: 7 });
    const price = h('input', { name: 'price', placeholder: '0.1500', size: 7 });
    const out = h('span.note');
    const form = $('#order-form', root) as HTMLFormElement;
    replace(
      form,
      side,
      ' interval ',
      interval,
      ' energy ',
      wh,
      ' Wh at ',
      price,
      ` ${me.currency}/kWh `,
      h('button', { type: 'submit' }, 'Place'),
      ' ',
      out,
    );
    form.onsubmit = (ev) => {
      ev.preventDefault();
      send('POST', '/api/orders', {
        side: side.value,
        interval: interval.value.trim(),
        energyWh: Number(wh.value),
        price: price.value.trim(),
      })
        .then(() => ((out.textContent = 'Placed.'), loadOrders()))
        .catch((e: Error) => (out.textContent = e.message));
    };
  };

  const loadLedger = async (): Promise<void> => {
    const [trades, statements, credits] = await Promise.all([
      get<
        {
          interval: string;
          kind: string;
          buyer: string | null;
          seller: string | null;
          energyWh: number;
          price: string;
        }[]
      >(`/api/trades?${RANGE()}`),
      get<
        {
          interval: string;
          boughtWh: number;
          soldWh: number;
          gridImportWh: number;
          gridExportWh: number;
          paid: string;
          received: string;
          net: string;
        }[]
      >(`/api/statements?${RANGE()}`),
      get<
        {
          interval: string;
          account: string;
          creditsWh: number;
          status: string;
          txHashes: string[];
          chainState: string | null;
        }[]
      >(`/api/credits?${RANGE()}`),
    ]);
    replace(
      $('#my-trades', root),
      h(
        'div.controls',
        {},
        csvButton(() => `/api/trades?${RANGE()}`, 'trades'),
      ),
      table(
        trades,
        [
          ['interval', (t) => time(t.interval)],
          ['role', (t) => (t.seller === pid ? 'sold' : 'bought')],
          ['with', (t) => (t.seller === pid ? t.buyer : t.seller) ?? 'a neighbour'],
          ['energy', (t) => kwh(t.energyWh)],
          ['price', (t) => t.price],
        ],
        'No trades yet.',
        (t) => void showInterval(detail(), t.interval),
      ),
    );
    replace(
      $('#my-statements', root),
      h(
        'div.controls',
        {},
        csvButton(() => `/api/statements?${RANGE()}`, 'statements'),
      ),
      table(
        statements,
        [
          ['interval', (s) => time(s.interval)],
          ['bought', (s) => kwh(s.boughtWh)],
          ['sold', (s) => kwh(s.soldWh)],
          ['grid in', (s) => kwh(s.gridImportWh)],
          ['grid out', (s) => kwh(s.gridExportWh)],
          ['paid', (s) => s.paid],
          ['received', (s) => s.received],
          ['net', (s) => s.net],
        ],
        'No statements yet (written at settlement).',
      ),
    );
    replace(
      $('#my-credits', root),
      h(
        'div.controls',
        {},
        csvButton(() => `/api/credits?${RANGE()}`, 'credits'),
      ),
      table(
        credits,
        [
          ['interval', (c) => time(c.interval)],
          ['credits', (c) => `${c.creditsWh} Wh`],
          ['account', (c) => h('code', { title: c.account }, `${c.account.slice(0, 10)}…`)],
          ['chain', (c) => c.chainState ?? 'not submitted'],
          [
            'transactions',
            (c) =>
              c.txHashes.length
                ? h(
                    'span',
                    {},
                    ...c.txHashes.map((tx) =>
                      h(
                        'a.tx',
                        {
                          href: `#tx/${tx}`,
                          onclick: (ev: Event) => (ev.preventDefault(), void showInterval(detail(), c.interval, tx)),
                        },
                        `${tx.slice(0, 10)}…`,
                      ),
                    ),
                  )
                : '—',
          ],
        ],
        'No credits yet (minted after settlement).',
      ),
    );
  };

  const loadToday = async (): Promise<void> => {
    const t = await get<Today>(`/api/participants/${pid}/today`);
    const c = t.currency;
    const fig = (key: string, label: string, value: string) =>
      h('div.kpi', { 'data-today': key }, h('span.label', {}, label), h('span.value', {}, value));
    const how =
      `sold ${kwh(t.soldWh)} for ${t.earned} ${c}; at the feed-in tariff (${t.feedInTariff} ${c}/kWh) the grid would have paid ${t.feedInValue} ${c}: ${signed(t.gainSelling)} ${c}. ` +
      `Bought ${kwh(t.boughtWh)} for ${t.paid} ${c}; at the retail tariff (${t.retailTariff} ${c}/kWh) the grid would have charged ${t.retailCost} ${c}: ${signed(t.gainBuying)} ${c}.`;
    replace(
      $('#today', root),
      h(
        'div.strip',
        {},
        fig('sold', 'sold to neighbours', kwh(t.soldWh)),
        fig('earned', 'earned', `${t.earned} ${c}`),
        fig('bought', 'bought from neighbours', kwh(t.boughtWh)),
        fig('paid', 'paid', `${t.paid} ${c}`),
        h(
          'div.kpi.gain',
          { 'data-today': 'gain', title: how },
          h('span.label', {}, 'gained over the grid tariffs'),
          h('span.value', {}, `${signed(t.gain)} ${c}`),
        ),
      ),
      h(
        'p.note.how',
        {},
        `${time(t.day).slice(0, 10)} (market day, UTC), ${t.intervals} settled interval${t.intervals === 1 ? '' : 's'}: ${how}`,
      ),
    );
  };

  const shout = (where: string) => (e: Error) => replace($(where, root), h('p.error', {}, e.message));
  void loadPrices().catch(shout('#my-prices'));
  void loadOrders().catch(shout('#my-orders'));
  orderForm();
  void loadLedger().catch(shout('#my-trades'));
  void loadToday().catch(shout('#today'));
  let reloadHistory: (() => Promise<void>) | null = null;
  return {
    root,
    update(state, frame) {
      reloadHistory ??= historyPanel($('#history', root), `&participant=${pid}`);
      if (frame.type === 'delta' && frame.events.some((e) => e.type === 'interval-state' && e.state === 'metered'))
        void reloadHistory();
      const grid = Object.values(state.meters).find((m) => m.participantId === pid && m.role === 'grid');
      const surplus = $('#my-surplus', root);
      if (!grid || grid.powerW === null) replace(surplus, h('span.empty', {}, 'No reading from my grid meter yet.'));
      else
        replace(
          surplus,
          grid.powerW < 0
            ? h('span.export', {}, `${watts(-grid.powerW)} surplus`)
            : h('span.import', {}, `${watts(grid.powerW)} from the grid`),
          h('small', {}, ` at ${time(grid.ts)}`),
        );
      balanceStrip($('#balance', root), state);
      alarmList($('#alarms', root), state);
      if (
        frame.type === 'delta' &&
        frame.events.some((e) => e.type === 'interval-cleared' || e.type === 'settlement-state')
      )
        void loadLedger().catch(shout('#my-trades'));
      if (
        frame.type === 'delta' &&
        frame.events.some(
          (e) => e.type === 'settlement-state' || (e.type === 'interval-state' && e.state === 'settled'),
        )
      )
        void loadToday().catch(shout('#today'));
    },
  };
}
