import type { DashboardDeps } from './deps.js';
import type { LiveHub } from './live/hub.js';
import type { ViewCutter } from './live/views.js';
import type { Principal, Tickets, TokenTable } from './auth.js';
import type { PriceScale } from '../core/units.js';

/** What every route plugin shares, decorated on the root instance as `app.mgx`. */
export interface DashboardContext {
  deps: DashboardDeps;
  hub: LiveHub;
  cutter: ViewCutter;
  tokens: TokenTable;
  tickets: Tickets;
  scale: PriceScale;
  /** Route option for write routes: `config: { rateLimit: ctx.writeLimit }`. */
  writeLimit: { max: number; timeWindow: number };
  /**
   * Set by the stream route: connected clients, clients dropped (slow or dead), frames sent, and per delta the ms from
   * its first event to its last write, the ms its fan-out took and the process CPU ms while it wrote (total and
   * kernel).
   */
  streamStats?: () => {
    clients: number;
    dropped: number;
    sent: number;
    frameSendMs: number[];
    fanOutMs: number[];
    fanOutCpuMs: number[];
    fanOutSysMs: number[];
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    mgx: DashboardContext;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}
