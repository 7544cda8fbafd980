import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { intervalStartOf, toIso } from '../../core/interval.js';
import { getInterval, listIntervals } from '../../ledger/intervals.js';

export async function healthRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
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
}
