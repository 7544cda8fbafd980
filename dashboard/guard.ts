import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../core/config/schema.js';
import { MicrogridError } from '../core/errors.js';
import { principalFromHeader, requireAuth, requireRole, type Role, type TokenTable } from './auth.js';

export interface GuardOptions {
  tokens: TokenTable;
  server: Config['server'];
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const WINDOW_MS = 60_000;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles that may call the route, checked before the body is parsed or validated. */
    roles?: readonly Role[];
    /**
     * Which write budget the route spends: 'readings' for POST /api/readings, else the token's (or address's) write
     * budget.
     */
    writeBudget?: 'readings';
  }
}

/**
 * Whether a route serves callers without a token. The OpenAPI document is the
 * one place that says so: a route it lists needs a bearer token unless its
 * `security` is empty or includes `{}` (optional). Routes it does not list
 * (static files, the docs, hidden ones) are public.
 */
export function allowsAnonymous(
  schema: { security?: readonly Record<string, unknown>[]; hide?: boolean } | undefined,
): boolean {
  if (!schema || (schema.hide === true && schema.security === undefined)) return true;
  const sec = schema.security;
  return sec !== undefined && (sec.length === 0 || sec.some((s) => Object.keys(s).length === 0));
}

const limited = (what: string, max: number, ttlMs: number): MicrogridError =>
  new MicrogridError(
    'RATE_LIMITED',
    `too many ${what}: at most ${max} per minute; retry in ${Math.max(1, Math.ceil(ttlMs / 1000))} s`,
  );

/**
 * Who is asking and whether they may, before anything of the request is read:
 * CORS, the bearer token (refused tokens counted per address), the route's
 * roles, and the write budget shared by every write route. Registered after
 * @fastify/websocket so its onRequest hook has already marked an upgrade: a
 * refusal here then still reaches its onResponse clean-up, which closes the
 * socket (before, each refused upgrade left one in CLOSE-WAIT for good).
 */
export const guard = fp(
  async (app: FastifyInstance, opts: GuardOptions) => {
    const { tokens, server } = opts;
    const rl = server.rateLimit;
    const keyOf = (req: FastifyRequest): string => req.principal?.key ?? `ip:${req.ip}`;
    const writes = app.createRateLimit({ max: rl.writesPerMinute, timeWindow: WINDOW_MS, keyGenerator: keyOf });
    const readings = app.createRateLimit({
      max: rl.readingsPerMinute,
      timeWindow: WINDOW_MS,
      keyGenerator: (req) => `ip:${req.ip}`,
    });
    const failedAuth = app.createRateLimit({
      max: rl.failedAuthPerMinute,
      timeWindow: WINDOW_MS,
      keyGenerator: (req) => `ip:${req.ip}`,
    });

    app.addHook('onRequest', async (req, reply) => {
      // CORS is closed unless server.corsOrigins lists the origin: no header, so browsers refuse cross-origin reads.
      const origin = req.headers.origin;
      if (origin !== undefined && server.corsOrigins.includes(origin)) {
        void reply.header('access-control-allow-origin', origin).header('vary', 'origin');
        if (req.method === 'OPTIONS') {
          return reply
            .header('access-control-allow-methods', 'GET, POST, PUT, DELETE')
            .header('access-control-allow-headers', 'authorization, content-type')
            .status(204)
            .send();
        }
      }
      if (req.headers.authorization !== undefined && req.headers.authorization !== '') {
        // An address that guessed wrong too often is refused before its next guess is looked at.
        const seen = await failedAuth(req, { increment: false });
        if (seen.isAllowed === false && (seen.remaining ?? 1) <= 0)
          throw limited('refused tokens from this address', rl.failedAuthPerMinute, seen.ttl ?? WINDOW_MS);
        try {
          req.principal = principalFromHeader(req.headers.authorization, tokens) ?? null;
        } catch (err) {
          await failedAuth(req);
          throw err;
        }
      }
      // Authentication and role before validation: an anonymous caller learns nothing of a route's schema.
      const roles = req.routeOptions.config.roles;
      if (roles) requireRole(req.principal, ...roles);
      else if (!allowsAnonymous(req.routeOptions.schema as Parameters<typeof allowsAnonymous>[0]))
        requireAuth(req.principal);

      if (WRITES.has(req.method) && req.routeOptions.url !== undefined) {
        const budget = req.routeOptions.config.writeBudget === 'readings' ? readings : writes;
        const r = await budget(req);
        if (r.isAllowed === false && r.isExceeded)
          throw limited(budget === readings ? 'readings requests from this address' : 'write requests', r.max, r.ttl);
      }
      return undefined;
    });
  },
  { name: 'mgx-guard' },
);
