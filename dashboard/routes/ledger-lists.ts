import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { assertId } from '../../core/ids.js';
import { listJournal } from '../../ledger/journal.js';
import { listStatementSummaries } from '../../ledger/statements.js';
import { listTrades } from '../../ledger/clearing.js';
import { creditRows } from '../credit-rows.js';
import { requireAuth, scopeParticipant } from '../auth.js';
import { iso, parseRange, sendList } from '../http.js';
import { errors } from '../schemas/error-body.js';
import { RangeQuery } from '../schemas/range-query.js';
import { redactCounterparty } from '../counterparty.js';
import { JournalOut, journalOut } from '../schemas/journal.js';
import { StatementOut, statementOut } from '../schemas/statement.js';

const Side = (what: string) =>
  Type.Union([Type.String(), Type.Null()], {
    description: `${what}; null for a household's counterparty unless server.showCounterpartyNames`,
  });
const TradeListOut = Type.Object({
  interval: Type.String(),
  kind: Type.String(),
  seq: Type.Integer(),
  buyer: Side('buying participant'),
  seller: Side('selling participant'),
  energyWh: Type.Integer(),
  price: Type.String(),
  fee: Type.String(),
  buyOrder: Side('buy order id'),
  sellOrder: Side('sell order id'),
});
const CreditOut = Type.Object({
  interval: Type.String(),
  account: Type.String({ description: 'the EVM account the credits are minted to' }),
  participants: Type.Array(Type.String(), { description: 'participants whose credits land on this account' }),
  creditsWh: Type.Integer({ description: '1 credit = 1 Wh: delivered Wh bought, plus own export not sold' }),
  status: Type.String({ description: 'settlement: queued (on its way to the chain), final, empty' }),
  txHashes: Type.Array(Type.String(), {
    description: "transactions of the interval's commit and mint steps (settlement journal, live rows)",
  }),
  chainState: Type.Union([Type.String(), Type.Null()], {
    description: "final when every step is final; else the latest step's state",
  }),
});

const ListQuery = Type.Object(
  { ...RangeQuery, participant: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

/** Trades, statements, credits and the settlement journal over a time range; CSV with ?format=csv. */
export async function ledgerListRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  const scope = (req: {
    principal: Parameters<typeof requireAuth>[0];
    query: { participant?: string | undefined };
  }) => {
    const p = requireAuth(req.principal);
    const pid = scopeParticipant(
      p,
      req.query.participant === undefined ? undefined : assertId(req.query.participant, 'participant'),
    );
    return pid === undefined ? {} : { participantId: pid };
  };

  app.get(
    '/api/trades',
    {
      schema: {
        tags: ['market'],
        summary: 'Trades in a time range (a household: its own)',
        querystring: ListQuery,
        response: { 200: Type.Array(TradeListOut), ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const who = scope(req);
      const rows = listTrades(deps.ledger, { ...parseRange(req.query, deps.clock), ...who }).map(
        ({ intervalStart, ...t }) => ({
          interval: iso(intervalStart)!,
          ...redactCounterparty(req.principal, deps.config, t),
        }),
      );
      return sendList(
        req,
        reply,
        rows,
        ['interval', 'kind', 'seq', 'buyer', 'seller', 'energyWh', 'price', 'fee', 'buyOrder', 'sellOrder'],
        'trades',
      );
    },
  );

  app.get(
    '/api/statements',
    {
      schema: {
        tags: ['settlement'],
        summary: 'Statements per interval and participant (a household: its own)',
        querystring: ListQuery,
        response: { 200: Type.Array(StatementOut), ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const rows = listStatementSummaries(deps.ledger, { ...parseRange(req.query, deps.clock), ...scope(req) }).map(
        statementOut,
      );
      return sendList(
        req,
        reply,
        rows,
        [
          'interval',
          'participant',
          'boughtWh',
          'soldWh',
          'gridImportWh',
          'gridExportWh',
          'paid',
          'received',
          'fees',
          'gridAmount',
          'net',
        ],
        'statements',
      );
    },
  );

  app.get(
    '/api/credits',
    {
      schema: {
        tags: ['settlement'],
        summary: 'Energy credits per interval and account, with their transactions (a household: its own)',
        querystring: ListQuery,
        response: { 200: Type.Array(CreditOut), ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const rows = creditRows(deps.ledger, parseRange(req.query, deps.clock), scope(req).participantId);
      return sendList(
        req,
        reply,
        rows,
        ['interval', 'account', 'participants', 'creditsWh', 'status', 'chainState', 'txHashes'],
        'credits',
      );
    },
  );

  app.get(
    '/api/settlement',
    {
      schema: {
        tags: ['settlement'],
        summary: 'Settlement status per interval: the chain journal with transaction hashes',
        querystring: Type.Object(RangeQuery, { additionalProperties: false }),
        response: { 200: Type.Array(JournalOut), ...errors(400, 401) },
      },
    },
    async (req, reply) => {
      requireAuth(req.principal);
      const rows = listJournal(deps.ledger, parseRange(req.query, deps.clock)).map(journalOut);
      return sendList(
        req,
        reply,
        rows,
        ['interval', 'action', 'chunk', 'state', 'chainId', 'txHash', 'blockNumber', 'error', 'updatedAt'],
        'settlement',
      );
    },
  );
}
