import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { gatewayRateLimited, ReadingsBody, takeReadings } from '../readings-intake.js';
import { errors } from '../schemas/error-body.js';

/**
 * `POST /api/readings`: signed readings pushed by a remote `mgx bridge`,
 * taken by `takeReadings` (dashboard/readings-intake.ts), the path MQTT
 * readings take too. Pushes are limited per address (guard.ts) and per
 * gateway (`server.rateLimit.readingsPerMinute`).
 */
export async function readingRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const gatewayOf = new WeakMap<object, string>();
  const perGateway = fastify.createRateLimit({
    max: deps.config.server.rateLimit.readingsPerMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => `gw:${gatewayOf.get(req) ?? ''}`,
  });
  app.post(
    '/api/readings',
    {
      config: { writeBudget: 'readings' },
      schema: {
        tags: ['readings'],
        summary: 'Receive signed meter readings from a remote bridge',
        // No token: each reading carries its gateway's signature instead.
        security: [],
        body: ReadingsBody,
        response: {
          200: Type.Object({ accepted: Type.Integer(), duplicates: Type.Integer() }),
          ...errors(400, 401, 413, 429),
        },
      },
    },
    async (req) =>
      takeReadings(deps, req.body.readings, {
        fieldOf: (i) => `body.readings[${i}]`,
        limit: async (g) => {
          gatewayOf.set(req, g);
          const r = await perGateway(req);
          return r.isAllowed === false && r.isExceeded ? gatewayRateLimited(g, r.max, r.ttl) : undefined;
        },
      }),
  );
}
