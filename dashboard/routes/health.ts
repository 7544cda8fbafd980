import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { intervalStartOf, toIso } from '../../core/interval.js';
import { getInterval } from '../../ledger/intervals.js';

const Health = Type.Object({
  status: Type.Literal('ok'),
  microgrid: Type.String(),
  version: Type.String(),
  now: Type.String(),
  clockSpeed: Type.Number(),
  intervalMinutes: Type.Integer(),
  currentInterval: Type.String(),
  currentIntervalState: Type.Union([Type.String(), Type.Null()]),
});

export async function healthRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/health',
    { schema: { tags: ['public'], summary: 'Liveness and the market clock', security: [], response: { 200: Health } } },
    async () => {
      const now = deps.clock.now();
      const current = intervalStartOf(now, deps.config.market.intervalMinutes);
      return {
        status: 'ok' as const,
        microgrid: deps.config.microgrid.name,
        version: deps.version,
        now: new Date(now).toISOString(),
        clockSpeed: deps.clock.speed,
        intervalMinutes: deps.config.market.intervalMinutes,
        currentInterval: toIso(current),
        currentIntervalState: getInterval(deps.ledger, current)?.state ?? null,
      };
    },
  );
}
