import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { assertId } from '../../core/ids.js';

import { listMeters, listParticipants } from '../../ledger/participants.js';
import { setPolicy } from '../../ledger/orders.js';
import { requireAuth, requireRole, scopeParticipant } from '../auth.js';
import { notFound, sendList } from '../http.js';
import { errors } from '../schemas/error-body.js';
import { Format } from '../schemas/range-query.js';
import { checkPrice } from '../check-price.js';
import { Nullable } from '../schemas/nullable.js';

const MeterOut = Type.Object({
  id: Type.String(),
  participant: Type.String(),
  role: Type.String(),
  deviceId: Nullable(Type.String()),
  ratedPowerW: Type.Union([Type.Integer(), Type.Null()]),
  gateway: Nullable(Type.String()),
});
const ParticipantOut = Type.Object({
  id: Type.String(),
  name: Type.String(),
  zone: Type.String(),
  account: Nullable(Type.String()),
  minSellPrice: Nullable(Type.String()),
  maxBuyPrice: Nullable(Type.String()),
  meters: Type.Array(MeterOut),
});
const PolicyBody = Type.Object(
  {
    minSellPrice: Type.Union([Type.String(), Type.Null()], {
      description: 'least accepted for surplus, per kWh; null = no standing offer',
    }),
    maxBuyPrice: Type.Union([Type.String(), Type.Null()], {
      description: 'most paid for deficit, per kWh; null = no standing bid',
    }),
  },
  { additionalProperties: false },
);

export async function participantRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = fastify.mgx;

  const load = (only?: string) => {
    const meters = listMeters(deps.ledger);
    return listParticipants(deps.ledger)
      .filter((p) => only === undefined || p.id === only)
      .map((p) => ({
        ...p,
        meters: meters
          .filter((m) => m.participantId === p.id)
          .map((m) => ({
            id: m.id,
            participant: m.participantId,
            role: m.role,
            deviceId: m.deviceId,
            ratedPowerW: m.ratedPowerW,
            gateway: m.gateway,
          })),
      }));
  };

  app.get(
    '/api/participants',
    {
      schema: {
        tags: ['participants'],
        summary: 'Participants with their meters and standing prices (a household sees itself)',
        querystring: Type.Object({ format: Format }, { additionalProperties: false }),
        response: { 200: Type.Array(ParticipantOut), ...errors(401) },
      },
    },
    async (req, reply) => {
      const p = requireAuth(req.principal);
      const rows = load(scopeParticipant(p, undefined));
      return sendList(
        req,
        reply,
        rows,
        ['id', 'name', 'zone', 'account', 'minSellPrice', 'maxBuyPrice'],
        'participants',
      );
    },
  );

  app.get(
    '/api/participants/:id',
    {
      schema: {
        tags: ['participants'],
        params: Type.Object({ id: Type.String() }),
        response: { 200: ParticipantOut, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const p = requireAuth(req.principal);
      const id = scopeParticipant(p, assertId(req.params.id, 'id'), 'id')!;
      const row = load(id)[0];
      if (!row) throw notFound('participant', 'id', id);
      return row;
    },
  );

  app.get(
    '/api/meters',
    {
      schema: {
        tags: ['participants'],
        summary: 'Meters (a household sees its own)',
        querystring: Type.Object({ format: Format }, { additionalProperties: false }),
        response: { 200: Type.Array(MeterOut), ...errors(401) },
      },
    },
    async (req, reply) => {
      const p = requireAuth(req.principal);
      const rows = load(scopeParticipant(p, undefined)).flatMap((x) => x.meters);
      return sendList(req, reply, rows, ['id', 'participant', 'role', 'deviceId', 'ratedPowerW', 'gateway'], 'meters');
    },
  );

  app.put(
    '/api/participants/:id/policy',
    {
      config: { rateLimit: ctx.writeLimit, roles: ['operator', 'household'] },
      schema: {
        tags: ['participants'],
        summary: 'Set the standing prices (metered trading) of a participant',
        params: Type.Object({ id: Type.String() }),
        body: PolicyBody,
        response: { 200: ParticipantOut, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (req) => {
      const p = requireRole(req.principal, 'operator', 'household');
      const id = scopeParticipant(p, assertId(req.params.id, 'id'), 'id')!;
      const { market } = deps.config;
      const minSell =
        req.body.minSellPrice === null ? null : checkPrice(ctx.scale, market, req.body.minSellPrice, 'minSellPrice');
      const maxBuy =
        req.body.maxBuyPrice === null ? null : checkPrice(ctx.scale, market, req.body.maxBuyPrice, 'maxBuyPrice');
      if (!setPolicy(deps.ledger, id, { minSellPrice: minSell, maxBuyPrice: maxBuy }, deps.clock.now()))
        throw notFound('participant', 'id', id);
      return load(id)[0]!;
    },
  );
}
