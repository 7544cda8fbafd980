import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { requireAuth } from '../auth.js';
import { errors, OPTIONAL_AUTH } from '../schemas/error-body.js';
import { SnapshotSchema } from '../live/schema.js';

const Me = Type.Object({
  role: Type.Union([
    Type.Literal('public'),
    Type.Literal('operator'),
    Type.Literal('household'),
    Type.Literal('auditor'),
  ]),
  participant: Type.Union([Type.String(), Type.Null()]),
  microgrid: Type.String(),
  currency: Type.String(),
  intervalMinutes: Type.Integer(),
  gateClosureSeconds: Type.Integer(),
  priceFloor: Type.String(),
  priceCap: Type.String(),
});

export async function stateRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = fastify.mgx;

  app.get(
    '/api/me',
    {
      schema: {
        tags: ['access'],
        summary: 'Who the token is (role and participant), or public',
        security: OPTIONAL_AUTH,
        response: { 200: Me, ...errors(401) },
      },
    },
    async (req) => ({
      role: req.principal?.role ?? ('public' as const),
      participant: req.principal?.participant ?? null,
      microgrid: deps.config.microgrid.name,
      currency: deps.config.microgrid.currency,
      intervalMinutes: deps.config.market.intervalMinutes,
      gateClosureSeconds: deps.config.market.gateClosureSeconds,
      priceFloor: deps.config.market.feedInTariff,
      priceCap: deps.config.market.retailTariff,
    }),
  );

  // The live state is the stream's snapshot, cut to what the caller may see.
  app.get(
    '/api/state',
    {
      schema: {
        tags: ['live'],
        summary: 'The live state: meters, devices, balance, alarms, last clearing (the stream snapshot, as JSON)',
        security: OPTIONAL_AUTH,
        response: { 200: SnapshotSchema, ...errors(401) },
      },
    },
    async (req) => ctx.cutter.snapshot(ctx.hub.state, ctx.hub.seq, req.principal, deps.clock.now()),
  );

  app.post(
    '/api/stream/ticket',
    {
      config: { rateLimit: ctx.writeLimit },
      schema: {
        tags: ['access'],
        summary: 'A one-use ticket (60 s) to open /api/stream?ticket=… from a browser',
        response: {
          200: Type.Object({ ticket: Type.String(), expiresInSeconds: Type.Integer() }),
          ...errors(401, 429),
        },
      },
    },
    async (req) => ({ ticket: ctx.tickets.issue(requireAuth(req.principal)), expiresInSeconds: 60 }),
  );
}
