import Fastify, { type FastifyInstance, type FastifyBaseLogger } from 'fastify';
import type { Ledger } from '../ledger/ledger.js';
import type { Config } from '../core/config/schema.js';
import type { Clock } from '../core/clock.js';
import { intervalStartOf, toIso } from '../core/interval.js';
import { getInterval, listIntervals } from '../ledger/intervals.js';
import { MicrogridError } from '../core/errors.js';

export interface DashboardDeps {
  ledger: Ledger;
  config: Config;
  clock: Clock;
  version: string;
  logger?: FastifyBaseLogger;
}

/**
 * Builds the HTTP app: plugins and routes, never `listen` (server.ts does
 * that), so tests use `inject` on exactly what production serves.
 */
export function buildDashboard(deps: DashboardDeps): FastifyInstance {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: 64 * 1024,
  });

  app.setErrorHandler((err: unknown, _req, reply) => {
    if (err instanceof MicrogridError) return reply.status(err.status).send(err.toJSON());
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode && e.statusCode < 500) return reply.status(e.statusCode).send({ code: 'INVALID_INPUT', message: e.message ?? 'bad request' });
    app.log.error({ err }, 'unhandled error in request');
    return reply.status(500).send({ code: 'INTERNAL', message: 'internal error; the server log has the cause' });
  });

  app.get('/api/health', async () => {
    const now = deps.clock.now();
    const current = intervalStartOf(now, deps.config.market.intervalMinutes);
    return {
      status: 'ok',
      microgrid: deps.config.microgrid.name,
      version: deps.version,
      now: new Date(now).toISOString(),
      clockSpeed: deps.clock.speed,
      intervalMinutes: deps.config.market.intervalMinutes,
      currentInterval: toIso(current),
      currentIntervalState: getInterval(deps.ledger, current)?.state ?? null,
    };
  });

  app.get('/api/intervals', async () => {
    return listIntervals(deps.ledger, { limit: 200 }).map((r) => ({ start: toIso(r.start), state: r.state, updatedAt: new Date(r.updatedAt).toISOString() }));
  });

  return app;
}
