import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { intervalEnd } from '../../core/interval.js';
import { Dec } from '../../core/units.js';
import { getInterval, listIntervals, listTransitions } from '../../ledger/intervals.js';
import { bookOrders } from '../../ledger/orders.js';
import { intervalEnergy } from '../../ledger/interval-energy.js';
import { listClearings, listTrades, type ClearingSummary } from '../../ledger/clearing.js';
import { listJournal } from '../../ledger/journal.js';
import { listStatementSummaries } from '../../ledger/statements.js';
import { getClearing } from '../../ledger/clearing.js';
import { redactCounterparty } from '../counterparty.js';
import { parseRange, sendList, iso, notFound } from '../http.js';
import { errors, OPTIONAL_AUTH } from '../schemas/error-body.js';
import { RangeQuery } from '../schemas/range-query.js';
import { fullCurve, publicCurve, MIN_PARTICIPANTS_PER_LEVEL } from '../curves.js';
import { StartParam, parseStartParam } from '../schemas/interval-start.js';
import { JournalOut, journalOut } from '../schemas/journal.js';
import { EnergyOut } from '../schemas/meter-energy.js';
import { Nullable } from '../schemas/nullable.js';
import { StatementOut, statementOut } from '../schemas/statement.js';

export const IntervalItem = Type.Object({
  start: Type.String(),
  state: Type.String(),
  updatedAt: Type.String(),
  clearingPrice: Nullable(Type.String()),
  matchedWh: Type.Integer(),
  surplus: Type.String(),
  trades: Type.Integer(),
  kinds: Type.String({ description: 'clearing kinds present: forward, metered, or both' }),
});

const ClearingOut = Type.Object({
  kind: Type.String(),
  mechanism: Type.String(),
  clearingPrice: Nullable(Type.String()),
  matchedWh: Type.Integer(),
  surplus: Type.String(),
  trades: Type.Integer(),
  clearedAt: Type.String(),
});
const Side = Type.Union([Type.String(), Type.Null()], {
  description: "null: a household's counterparty, hidden unless server.showCounterpartyNames",
});
const TradeOut = Type.Object({
  kind: Type.String(),
  seq: Type.Integer(),
  buyOrder: Side,
  sellOrder: Side,
  buyer: Side,
  seller: Side,
  energyWh: Type.Integer(),
  price: Type.String(),
  fee: Type.String(),
});
const IntervalDetail = Type.Object({
  start: Type.String(),
  end: Type.String(),
  state: Type.String(),
  transitions: Type.Array(Type.Object({ state: Type.String(), at: Type.String() })),
  clearings: Type.Array(ClearingOut),
  trades: Type.Array(TradeOut, {
    description: "all trades (operator, auditor), the household's own, none without a token",
  }),
  statements: Type.Array(StatementOut),
  settlement: Type.Array(JournalOut),
  energy: Type.Array(EnergyOut),
});

const CurvePoint = Type.Object({ price: Type.String(), cumulativeWh: Type.Integer() });
const Curves = Type.Object({
  interval: Type.String(),
  source: Type.String(),
  bids: Type.Array(CurvePoint, { description: 'demand: bids by price, highest first, cumulative Wh' }),
  offers: Type.Array(CurvePoint, { description: 'supply: offers by price, lowest first, cumulative Wh' }),
  clearingPrice: Nullable(Type.String()),
  matchedWh: Type.Integer(),
  levels: Type.Union([Type.Literal('all'), Type.Literal('merged'), Type.Literal('hidden')], {
    description: `all: every price level (operator, auditor); merged: levels merged until each stands for ${MIN_PARTICIPANTS_PER_LEVEL} or more participants (households and the public, after gate closure); hidden: before gate closure`,
  }),
});

export function summarize(
  clearings: ClearingSummary[],
): Pick<typeof IntervalItem.static, 'clearingPrice' | 'matchedWh' | 'surplus' | 'trades' | 'kinds'> {
  // The metered clearing is the one households pay by; its price wins when both exist.
  const byKind = [...clearings].sort((a, b) => (a.kind === 'metered' ? -1 : 1) - (b.kind === 'metered' ? -1 : 1));
  return {
    clearingPrice: byKind[0]?.clearingPrice ?? null,
    matchedWh: clearings.reduce((a, c) => a + c.matchedWh, 0),
    // Keep the ledger's decimals ("0.0100" + "0.0200" = "0.0300"), never a float.
    surplus: clearings
      .reduce((a, c) => a.add(c.surplus), new Dec(0))
      .toFixed(Math.max(0, ...clearings.map((c) => c.surplus.split('.')[1]?.length ?? 0))),
    trades: clearings.reduce((a, c) => a + c.trades, 0),
    kinds: clearings
      .map((c) => c.kind)
      .sort()
      .join('+'),
  };
}

export async function intervalRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const minutes = deps.config.market.intervalMinutes;

  app.get(
    '/api/intervals',
    {
      schema: {
        tags: ['intervals'],
        summary: 'Intervals with their lifecycle state and clearing figures (public aggregate)',
        security: OPTIONAL_AUTH,
        querystring: Type.Object(
          { ...RangeQuery, limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(IntervalItem), ...errors(400) },
      },
    },
    async (req, reply) => {
      const hasRange = req.query.from !== undefined || req.query.to !== undefined;
      const range = hasRange ? parseRange(req.query, deps.clock) : undefined;
      const limit = Math.min(Number(req.query.limit ?? 200), 5000);
      const rows = listIntervals(deps.ledger, { ...(range ?? {}), limit });
      const clearings = new Map<number, ClearingSummary[]>();
      const last = rows[rows.length - 1];
      if (rows.length && last) {
        for (const c of listClearings(deps.ledger, { from: last.start, to: rows[0]!.start + 1 })) {
          const l = clearings.get(c.intervalStart) ?? [];
          l.push(c);
          clearings.set(c.intervalStart, l);
        }
      }
      const out = rows.map((r) => ({
        start: iso(r.start)!,
        state: r.state,
        updatedAt: iso(r.updatedAt)!,
        ...summarize(clearings.get(r.start) ?? []),
      }));
      return sendList(
        req,
        reply,
        out,
        ['start', 'state', 'clearingPrice', 'matchedWh', 'surplus', 'trades', 'kinds', 'updatedAt'],
        'intervals',
      );
    },
  );

  app.get(
    '/api/intervals/:start',
    {
      schema: {
        tags: ['intervals'],
        summary: 'One interval: lifecycle, clearing results, trades, statements, settlement',
        security: OPTIONAL_AUTH,
        params: StartParam,
        response: { 200: IntervalDetail, ...errors(400, 404) },
      },
    },
    async (req) => {
      const start = parseStartParam(req.params.start, minutes);
      const row = getInterval(deps.ledger, start);
      if (!row) throw notFound('interval', 'start', req.params.start);
      const p = req.principal;
      const own = p?.role === 'household' ? (p.participant ?? undefined) : undefined;
      const clearings = listClearings(deps.ledger, { start });
      const trades = p ? listTrades(deps.ledger, { start, ...(own === undefined ? {} : { participantId: own }) }) : [];
      const statements = p
        ? listStatementSummaries(deps.ledger, { start, ...(own === undefined ? {} : { participantId: own }) })
        : [];
      const energy = p ? intervalEnergy(deps.ledger, start, own) : [];
      return {
        start: iso(start)!,
        end: iso(intervalEnd(start, minutes))!,
        state: row.state,
        transitions: listTransitions(deps.ledger, start).map((t) => ({ state: t.state, at: iso(t.at)! })),
        clearings: clearings.map((c) => ({
          kind: c.kind,
          mechanism: c.mechanism,
          clearingPrice: c.clearingPrice,
          matchedWh: c.matchedWh,
          surplus: c.surplus,
          trades: c.trades,
          clearedAt: iso(c.createdAt)!,
        })),
        trades: trades.map(({ intervalStart: _s, ...t }) => redactCounterparty(p, deps.config, t)),
        statements: statements.map(statementOut),
        settlement: p ? listJournal(deps.ledger, { start }).map(journalOut) : [],
        energy: energy.map((e) => ({
          meterId: e.meterId,
          participant: e.participantId,
          role: e.role,
          importWh: e.importWh,
          exportWh: e.exportWh,
          quality: e.quality,
          status: e.status,
          reasons: e.reasons,
          method: e.method,
        })),
      };
    },
  );

  app.get(
    '/api/intervals/:start/curves',
    {
      schema: {
        tags: ['intervals'],
        summary: "Supply and demand curves of an interval's book with the clearing point (aggregate, public)",
        security: OPTIONAL_AUTH,
        params: StartParam,
        querystring: Type.Object(
          { source: Type.Optional(Type.Union([Type.Literal('forward'), Type.Literal('metered')])) },
          { additionalProperties: false },
        ),
        response: { 200: Curves, ...errors(400) },
      },
    },
    async (req) => {
      const start = parseStartParam(req.params.start, minutes);
      const source = req.query.source ?? 'forward';
      const book = bookOrders(deps.ledger, start, source);
      const role = req.principal?.role;
      // dashboard/curves.ts: who sees which levels, and why.
      const levels: 'all' | 'merged' | 'hidden' =
        role === 'operator' || role === 'auditor'
          ? 'all'
          : deps.clock.now() < start - deps.config.market.gateClosureSeconds * 1000
            ? 'hidden'
            : 'merged';
      const curve = (side: 'bid' | 'offer') =>
        levels === 'all' ? fullCurve(book, side) : levels === 'merged' ? publicCurve(book, side) : [];
      const clearing = getClearing(deps.ledger, start, source);
      return {
        interval: iso(start)!,
        source,
        bids: curve('bid'),
        offers: curve('offer'),
        clearingPrice: clearing?.clearingPrice ?? null,
        matchedWh: clearing?.matchedWh ?? 0,
        levels,
      };
    },
  );
}
