import Fastify, { type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { fileURLToPath } from 'node:url';
import { PriceScale } from '../core/units.js';
import type { DashboardDeps } from './deps.js';
import type { DashboardContext } from './context.js';
import { ROUTES } from './routes/index.js';
import { LiveHub } from './live/hub.js';
import { ViewCutter } from './live/views.js';
import { Tickets, TokenTable } from './auth.js';
import { clientErrorHandler, frameworkErrors, installErrorHandler, installJsonParser } from './errors.js';
import { guard } from './guard.js';
import { ErrorBody } from './schemas/error-body.js';
import { listMeters } from '../ledger/participants.js';
import { ensureBundle } from './build.js';

export type { DashboardDeps };

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/**
 * Builds the HTTP app: plugins and routes, never `listen` (server.ts does
 * that), so tests use `inject` on exactly what production serves.
 */
export function buildDashboard(deps: DashboardDeps): FastifyInstance {
  const server = deps.config.server;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: server.bodyLimitBytes,
    // Bodies are checked as sent: "100" is not a number of Wh and 0.125 is not a price string.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // fastify's own refusals (bad URL, too long a parameter, header overflow, timeouts) in the API's one error format.
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Resolve the tokens first: a missing secret or a household token naming nobody stops the start.
  const tokens = new TokenTable(deps.config, deps.env);
  const hub = new LiveHub({
    ledger: deps.ledger,
    config: deps.config,
    clock: deps.clock,
    bus: deps.bus,
    replayFrames: server.stream.replayFrames,
    ...(deps.devices ? { devices: deps.devices } : {}),
    ...(deps.readingGapMs === undefined ? {} : { readingGapMs: deps.readingGapMs }),
  });
  const deviceOfMeter = new Map(
    listMeters(deps.ledger).flatMap((m) => (m.deviceId ? [[m.id, m.deviceId] as const] : [])),
  );
  const ctx: DashboardContext = {
    deps,
    hub,
    cutter: new ViewCutter(deviceOfMeter),
    tokens,
    tickets: new Tickets(),
    scale: new PriceScale(deps.config.market.priceTick),
    writeLimit: { max: server.rateLimit.writesPerMinute, timeWindow: 60_000 },
  };
  app.decorate('mgx', ctx);
  app.decorateRequest('principal', null);
  app.addHook('onClose', async () => hub.close());

  installErrorHandler(app, tokens);
  installJsonParser(app);

  app.addSchema(ErrorBody);
  void app.register(rateLimit, {
    global: false,
    hook: 'preParsing',
    keyGenerator: (req) => req.principal?.key ?? req.ip,
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: `too many write requests: at most ${ctx.max} per minute; retry in ${Math.ceil(ctx.ttl / 1000)} s`,
    }),
  });
  void app.register(swagger, {
    openapi: {
      info: {
        title: 'microgrid-exchange dashboard API',
        version: deps.version,
        description:
          'Live state, intervals, forward orders, settlement and energy history. Bearer tokens from auth.tokens; without one, the public aggregate view.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  void app.register(swaggerUi, { routePrefix: '/api/docs' });
  void app.register(websocket, {
    // No permessage-deflate (ws's default, stated here because routes/stream.ts sends every client of a
    // view the same serialized frame): compressing per client would cost more than the bytes it saves on a LAN.
    options: { maxPayload: 4096, perMessageDeflate: false },
    // Graceful shutdown: tell every client why (1001 "going away") so it reconnects to the next server.
    preClose(done) {
      for (const c of this.websocketServer.clients) c.close(1001, 'server shutting down');
      this.websocketServer.close();
      done();
    },
  });

  // After websocket: see guard.ts for why the order matters.
  void app.register(guard, { tokens, server });

  for (const routes of ROUTES) void app.register(async (scope) => routes(scope, deps));

  // The web UI: built from dashboard/web by esbuild if the bundle is missing or older than its sources.
  void app.register(async () => {
    if (deps.buildBundle === false) return;
    try {
      await ensureBundle();
    } catch (err) {
      // esbuild and uplot are runtime dependencies, but the build can still fail (esbuild's platform binary
      // missing, dashboard/public/dist/ not writable): the API does not need the UI, so it is served anyway.
      app.log.error(
        { err },
        'the web UI bundle could not be built (see err; `npx tsx dashboard/build.ts` builds it by hand), so the API is served without the UI',
      );
    }
  });
  void app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/',
    index: ['index.html'],
    wildcard: false,
    cacheControl: true,
    maxAge: 0,
  });

  return app as unknown as FastifyInstance;
}
