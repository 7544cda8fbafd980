import Fastify, { type FastifyInstance } from 'fastify';
import { MicrogridError } from '../core/errors.js';
import type { DashboardDeps } from './deps.js';
import { ROUTES } from './routes/index.js';

export type { DashboardDeps };

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

  for (const routes of ROUTES) void app.register(async (scope) => routes(scope, deps));

  return app;
}
