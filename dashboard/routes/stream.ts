import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { DashboardDeps } from '../deps.js';
import type { Principal } from '../auth.js';
import type { DeltaFrame } from '../live/model.js';
import { MicrogridError } from '../../core/errors.js';

interface Client {
  ws: WebSocket;
  principal: Principal | null;
  alive: boolean;
}

/** Close codes the stream uses (1008 policy, 1013 try again later). */
export const CLOSE_SLOW = 1013;
export const CLOSE_BAD_TICKET = 1008;

/**
 * GET /api/stream (WebSocket). On connect: a snapshot, or with `?since=SEQ`
 * the frames after SEQ when they are still kept. Then one delta frame per
 * batch of events, each numbered; a client that sees a gap reconnects with
 * `since`. Pings every `server.stream.heartbeatMs`; a client that did not
 * answer the previous ping is dropped. A client whose send buffer holds more
 * than `server.stream.maxBufferedBytes` is dropped at once instead of
 * making the others wait (it reconnects with `since`).
 */
export async function streamRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = fastify.mgx;
  const { heartbeatMs, maxBufferedBytes } = deps.config.server.stream;
  const clients = new Set<Client>();
  const stats = { dropped: 0, sent: 0 };

  const send = (c: Client, data: string | Buffer): void => {
    if (c.ws.readyState !== 1) return;
    if (c.ws.bufferedAmount > maxBufferedBytes) {
      stats.dropped++;
      clients.delete(c);
      c.ws.terminate();
      return;
    }
    // Text frames: a Buffer would go out as binary unless told otherwise.
    c.ws.send(data, { binary: false });
    stats.sent++;
  };

  // Per frame, the time from its first event reaching the hub to the last client's send call
  // returning (the server's share of delivery latency); the newest 10,000 are kept.
  const frameSendMs: number[] = [];
  const unsubscribe = ctx.hub.subscribe((frame: DeltaFrame) => {
    for (const c of clients) send(c, ctx.cutter.delta(frame, c.principal, ctx.hub.state));
    frameSendMs.push(Date.now() - frame.t);
    if (frameSendMs.length > 10_000) frameSendMs.splice(0, frameSendMs.length - 10_000);
  });

  const heartbeat = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        stats.dropped++;
        clients.delete(c);
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();

  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    unsubscribe();
    for (const c of clients) c.ws.close(1001, 'server shutting down');
    clients.clear();
  });

  ctx.streamStats = () => ({ clients: clients.size, ...stats, frameSendMs: [...frameSendMs] });

  app.get(
    '/api/stream',
    {
      websocket: true,
      schema: {
        tags: ['live'],
        summary: 'WebSocket: snapshot, then numbered delta frames (see dashboard/live/model.ts)',
        querystring: Type.Object({ since: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })), ticket: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
      },
    },
    (ws, req) => {
      let principal = req.principal;
      if (req.query.ticket !== undefined) {
        const p = ctx.tickets.redeem(req.query.ticket);
        if (!p) {
          ws.close(CLOSE_BAD_TICKET, JSON.stringify(new MicrogridError('UNAUTHORIZED', 'the stream ticket is unknown or expired', { field: 'ticket' }).toJSON()).slice(0, 120));
          return;
        }
        principal = p;
      }
      const c: Client = { ws, principal, alive: true };
      ws.on('pong', () => (c.alive = true));
      ws.on('close', () => clients.delete(c));
      // Messages from clients are not part of the protocol; ignore them (maxPayload bounds their size).
      const since = req.query.since === undefined ? undefined : Number(req.query.since);
      const missed = since === undefined ? null : ctx.hub.framesSince(since);
      if (missed) for (const f of missed) send(c, ctx.cutter.delta(f, principal, ctx.hub.state));
      else send(c, JSON.stringify(ctx.cutter.snapshot(ctx.hub.state, ctx.hub.seq, principal)));
      clients.add(c);
    },
  );
}
