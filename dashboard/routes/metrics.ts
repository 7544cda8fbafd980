import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';

/**
 * Prometheus scrape endpoint. Counters and summaries are fed by the app
 * (interval step lag, readings, alarms, gas); gauges (devices by status,
 * settlement backlog) are computed at scrape time.
 */
export async function metricsRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const body = deps.metrics ? await deps.metrics.render() : '';
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(body);
  });
}
