import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps, ForwardOrders } from '../deps.js';
import { assertId, newId } from '../../core/ids.js';
import { assertWh } from '../../core/units.js';
import { parseIntervalStart, parseUtc } from '../../core/interval.js';
import { MicrogridError, invalid } from '../../core/errors.js';
import { getOrder, listOrders, type OrderRow } from '../../ledger/orders.js';
import { listMeters, listParticipants } from '../../ledger/participants.js';
import { deliverableWh, MARKET_MAX_ORDER_WH } from '../../core/market.js';
import { requireAuth, requireRole, scopeParticipant } from '../auth.js';
import { iso, notFound, sendList } from '../http.js';
import { errors } from '../schemas/error-body.js';
import { Format } from '../schemas/range-query.js';
import { checkPrice } from '../check-price.js';
import { parseStartParam } from '../schemas/interval-start.js';

const OrderOut = Type.Object({
  id: Type.String(),
  interval: Type.String(),
  participant: Type.String(),
  side: Type.String(),
  energyWh: Type.Integer(),
  price: Type.String(),
  zone: Type.String(),
  seq: Type.Integer(),
  source: Type.String(),
  status: Type.String(),
  partners: Type.Union([Type.Array(Type.String()), Type.Null()]),
  greenOnly: Type.Boolean(),
  createdAt: Type.String(),
  rejectedReason: Type.Union([Type.String(), Type.Null()], {
    description: 'why gate closure excluded the order (status rejected)',
  }),
});

const OrderBody = Type.Object(
  {
    participant: Type.Optional(
      Type.String({ description: 'required for operators; a household may omit it (or give its own id)' }),
    ),
    side: Type.Union([Type.Literal('bid'), Type.Literal('offer')]),
    interval: Type.Union([Type.String(), Type.Integer()], {
      description: 'interval start, ISO 8601 UTC or unix seconds',
    }),
    energyWh: Type.Integer({
      description: `positive integer Wh; with the participant's other open orders of the side at most what its meters deliver in the interval (rated power × interval) and at most ${MARKET_MAX_ORDER_WH} Wh`,
    }),
    price: Type.String({
      description: 'limit price per kWh, decimal string on the price tick grid, within [feedInTariff, retailTariff]',
    }),
    partners: Type.Optional(Type.Array(Type.String(), { maxItems: 32 })),
    greenOnly: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Forward orders may be placed at most this far ahead. */
const HORIZON_MS = 7 * 86_400_000;

/** The live books; a dashboard built without them (no market runs behind it) takes no orders. */
function liveBooks(deps: DashboardDeps): ForwardOrders {
  if (!deps.forwardOrders)
    throw new MicrogridError('INTERNAL', 'forward orders are not wired in this server', {
      field: 'server',
      expected: 'the running app (mgx start)',
    });
  return deps.forwardOrders;
}

function orderOut(o: OrderRow): typeof OrderOut.static {
  return {
    id: o.id,
    interval: iso(o.intervalStart)!,
    participant: o.participantId,
    side: o.side,
    energyWh: o.energyWh,
    price: o.price,
    zone: o.zone,
    seq: o.seq,
    source: o.source,
    status: o.status,
    partners: o.partners,
    greenOnly: o.greenOnly,
    createdAt: iso(o.createdAt)!,
    rejectedReason: o.rejectedReason,
  };
}

export async function orderRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { market } = deps.config;
  const gateMs = market.gateClosureSeconds * 1000;
  const ctx = fastify.mgx;

  app.post(
    '/api/orders',
    {
      config: { rateLimit: ctx.writeLimit, roles: ['operator', 'household'] },
      schema: {
        tags: ['orders'],
        summary: 'Place a forward order for a future interval (until gate closure)',
        body: OrderBody,
        response: { 201: OrderOut, ...errors(400, 401, 403, 404, 409, 413, 429) },
      },
    },
    async (req, reply) => {
      const p = requireRole(req.principal, 'operator', 'household');
      const books = liveBooks(deps);
      const b = req.body;
      const asked = b.participant === undefined ? undefined : assertId(b.participant, 'participant');
      const participantId = scopeParticipant(p, asked);
      if (participantId === undefined)
        throw invalid('INVALID_INPUT', 'participant', undefined, 'the id of the participant the order is for');
      const participant = listParticipants(deps.ledger).find((x) => x.id === participantId);
      if (!participant) throw notFound('participant', 'participant', participantId);
      const energyWh = assertWh(b.energyWh, 'energyWh');
      const price = checkPrice(ctx.scale, market, b.price, 'price');
      const start = parseIntervalStart(b.interval, market.intervalMinutes, 'interval');
      const partners = b.partners === undefined ? null : b.partners.map((x, i) => assertId(x, `partners[${i}]`));
      const now = deps.clock.now();
      if (now >= start - gateMs) {
        throw new MicrogridError('ORDER_GATE_CLOSED', 'gate closure for this interval has passed', {
          field: 'interval',
          value: b.interval,
          expected: `an interval starting after ${new Date(now + gateMs).toISOString()} (gate closes ${market.gateClosureSeconds} s before the start)`,
        });
      }
      if (start > now + HORIZON_MS)
        throw invalid('INVALID_TIME', 'interval', b.interval, 'an interval within the next 7 days');
      if (energyWh > MARKET_MAX_ORDER_WH)
        throw invalid(
          'INVALID_ENERGY',
          'energyWh',
          b.energyWh,
          `at most ${MARKET_MAX_ORDER_WH} Wh, the market maximum per order`,
        );
      // Bounded by what the participant's meters can deliver: no order the grid connection could not carry.
      const capacity = deliverableWh(listMeters(deps.ledger, participantId), market.intervalMinutes);
      const open = books.heldWh(participantId, start, b.side);
      if (open + energyWh > capacity) {
        throw invalid(
          'INVALID_ENERGY',
          'energyWh',
          b.energyWh,
          `at most ${Math.max(0, capacity - open)} Wh: ${participantId}'s meters deliver ${capacity} Wh in a ${market.intervalMinutes}-minute interval (rated power × time) and its open ${b.side}s for it hold ${open} Wh`,
        );
      }
      const row = books.place({
        id: newId('ord'),
        intervalStart: start,
        participantId,
        side: b.side,
        energyWh,
        price,
        zone: participant.zone,
        partners,
        greenOnly: b.greenOnly ?? false,
        createdAt: now,
      });
      return reply.status(201).send(orderOut(row));
    },
  );

  app.delete(
    '/api/orders/:id',
    {
      config: { rateLimit: ctx.writeLimit, roles: ['operator', 'household'] },
      schema: {
        tags: ['orders'],
        summary: 'Cancel an open forward order before gate closure',
        params: Type.Object({ id: Type.String() }),
        response: { 200: OrderOut, ...errors(400, 401, 403, 404, 409, 429) },
      },
    },
    async (req) => {
      const p = requireRole(req.principal, 'operator', 'household');
      const books = liveBooks(deps);
      const id = assertId(req.params.id, 'id');
      const o = getOrder(deps.ledger, id);
      // Another household's order is "not found": its existence is not theirs to learn.
      if (!o || (p.role === 'household' && o.participantId !== p.participant)) throw notFound('order', 'id', id);
      if (o.source !== 'forward')
        throw invalid('INVALID_INPUT', 'id', id, 'a forward order (metered orders are made by settlement)');
      if (deps.clock.now() >= o.intervalStart - gateMs || !books.cancel(o)) {
        throw new MicrogridError('ORDER_GATE_CLOSED', `the order is ${o.status} and can no longer be cancelled`, {
          field: 'id',
          value: id,
          expected: "an open order before its interval's gate closure",
        });
      }
      return orderOut(getOrder(deps.ledger, id)!);
    },
  );

  app.get(
    '/api/orders',
    {
      schema: {
        tags: ['orders'],
        summary: "Orders: a household's own; all for operator and auditor",
        querystring: Type.Object(
          {
            participant: Type.Optional(Type.String()),
            interval: Type.Optional(Type.String()),
            status: Type.Optional(
              Type.Union(['open', 'cancelled', 'replaced', 'closed', 'rejected'].map((s) => Type.Literal(s))),
            ),
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
            from: Type.Optional(Type.String({ description: 'interval start from, ISO 8601 UTC (inclusive)' })),
            to: Type.Optional(Type.String({ description: 'interval start before, ISO 8601 UTC' })),
            format: Format,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(OrderOut), ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const p = requireAuth(req.principal);
      const participantId = scopeParticipant(
        p,
        req.query.participant === undefined ? undefined : assertId(req.query.participant, 'participant'),
      );
      const rows = listOrders(deps.ledger, {
        ...(participantId === undefined ? {} : { participantId }),
        ...(req.query.interval === undefined
          ? {}
          : { intervalStart: parseStartParam(req.query.interval, market.intervalMinutes) }),
        ...(req.query.status === undefined ? {} : { status: req.query.status as OrderRow['status'] }),
        ...(req.query.from === undefined ? {} : { from: parseUtc(req.query.from, 'from') }),
        ...(req.query.to === undefined ? {} : { to: parseUtc(req.query.to, 'to') }),
        limit: Math.min(Number(req.query.limit ?? 1000), 10000),
      });
      return sendList(
        req,
        reply,
        rows.map(orderOut),
        [
          'id',
          'interval',
          'participant',
          'side',
          'energyWh',
          'price',
          'zone',
          'seq',
          'source',
          'status',
          'greenOnly',
          'createdAt',
        ],
        'orders',
      );
    },
  );
}
