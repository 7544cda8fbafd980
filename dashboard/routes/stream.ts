import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { DashboardDeps } from '../deps.js';
import type { Principal } from '../auth.js';
import type { HubFrame } from '../live/hub.js';
import { viewKey, type ViewKey } from '../live/views.js';
import { MicrogridError } from '../../core/errors.js';
import { OPTIONAL_AUTH } from '../schemas/error-body.js';

interface Client {
  ws: WebSocket;
  principal: Principal | null;
  alive: boolean;
  /** The newest seq this client has (from its snapshot, replay or a delta); older frames are not sent to it. */
  seq: number;
}

/** Close code for a refused ticket (1008: policy violation). */
export const CLOSE_BAD_TICKET = 1008;

/**
 * A fan-out writes for this long (ms) before it lets the event loop run (setImmediate), unless DashboardDeps says
 * otherwise.
 */
export const DEFAULT_SLICE_MS = 8;
/** Clients written between two looks at the clock. */
const CHECK_EVERY = 16;

interface FanOut {
  frame: HubFrame;
  /** The frame's JSON per view, built on first need. */
  json: Map<ViewKey, Buffer>;
  targets: Client[];
  next: number;
  startedAt: number;
  /**
   * Process CPU time (ms, user + system) while this fan-out was writing, summed over its slices, and the system
   * (kernel) part of it.
   */
  cpuMs: number;
  sysMs: number;
}

/**
 * GET /api/stream (WebSocket). On connect: a snapshot, or with `?since=SEQ`
 * the frames after SEQ when they are still kept. Then one delta frame per
 * batch of events, each numbered; a client that sees a gap reconnects with
 * `since`. Pings every `server.stream.heartbeatMs`; a client that did not
 * answer the previous ping is dropped. A client whose send buffer holds more
 * than `server.stream.maxBufferedBytes` is dropped at once instead of
 * making the others wait (it reconnects with `since`).
 *
 * Fan-out: each delta is serialized once per view, and that Buffer goes to
 * every client of the view through ws.send. Framing once per view and writing
 * the bytes to ws's private socket was measured against it
 * (`npm run bench:dashboard -- --clients 1000 --duration 10 --runs 3`, runs
 * interleaved, load 15–24 on 2 cores): latency p50/p99 the same within noise,
 * fan-out CPU p50 14.0–15.4 ms against 14.0, server CPU 2.9–3.1 % of one core
 * against 2.5 %: not worth a private path.
 *
 * The writes run in slices of `streamSliceMs`, so 1,000 clients never hold
 * the event loop (HTTP, the bridge, the next frame) for the whole fan-out. Frames go out strictly in order: a frame's
 * fan-out
 * starts when the previous one has finished.
 */
export async function streamRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = fastify.mgx;
  const { heartbeatMs, maxBufferedBytes } = deps.config.server.stream;
  const sliceMs = deps.streamSliceMs ?? DEFAULT_SLICE_MS;
  const clients = new Set<Client>();
  const stats = { dropped: 0, sent: 0 };

  const drop = (c: Client): void => {
    stats.dropped++;
    clients.delete(c);
    c.ws.terminate();
  };

  /** Sends one message. False when the client is gone or was dropped as slow. */
  const write = (c: Client, json: Buffer | string): boolean => {
    if (c.ws.readyState !== 1) return false;
    // bufferedAmount counts what waits in the socket and in ws's sender.
    if (c.ws.bufferedAmount > maxBufferedBytes) {
      drop(c);
      return false;
    }
    // Text frames: a Buffer would go out as binary unless told otherwise.
    c.ws.send(json, { binary: false, compress: false });
    stats.sent++;
    return true;
  };

  // Per frame, the time from its first event reaching the hub to the last client's write
  // (the server's share of delivery latency), and the time the fan-out itself took from its
  // first write to its last; the newest 10,000 of each are kept.
  const frameSendMs: number[] = [];
  const fanOutMs: number[] = [];
  const fanOutCpuMs: number[] = [];
  const fanOutSysMs: number[] = [];
  const keep = (xs: number[], x: number): void => {
    xs.push(x);
    if (xs.length > 10_000) xs.splice(0, xs.length - 10_000);
  };

  const queue: HubFrame[] = [];
  let job: FanOut | null = null;
  let pumping = false;

  const jsonOf = (j: FanOut, c: Client): Buffer => {
    const key = viewKey(c.principal);
    let json = j.json.get(key);
    if (!json) j.json.set(key, (json = ctx.cutter.delta(j.frame, c.principal)));
    return json;
  };

  /** Writes queued frames in order, yielding to the event loop every `sliceMs`. */
  const pump = (): void => {
    const sliceStart = performance.now();
    // CPU against wall time tells a fan-out that worked long from one that waited for a CPU.
    let cpuMark = process.cpuUsage();
    const addCpu = (j: FanOut): void => {
      const d = process.cpuUsage(cpuMark);
      cpuMark = process.cpuUsage();
      j.cpuMs += (d.user + d.system) / 1000;
      j.sysMs += d.system / 1000;
    };
    for (;;) {
      if (!job) {
        const frame = queue.shift();
        if (!frame) {
          pumping = false;
          return;
        }
        job = {
          frame,
          json: new Map(),
          targets: [...clients],
          next: 0,
          startedAt: performance.now(),
          cpuMs: 0,
          sysMs: 0,
        };
        cpuMark = process.cpuUsage();
      }
      const j = job;
      while (j.next < j.targets.length) {
        const c = j.targets[j.next++]!;
        // A client that joined after this frame was made has it in its snapshot or replay.
        if (c.seq >= j.frame.seq || !clients.has(c)) continue;
        if (write(c, jsonOf(j, c))) c.seq = j.frame.seq;
        if (j.next % CHECK_EVERY === 0 && performance.now() - sliceStart >= sliceMs && j.next < j.targets.length) {
          addCpu(j);
          setImmediate(pump);
          return;
        }
      }
      keep(frameSendMs, Date.now() - j.frame.t);
      keep(fanOutMs, performance.now() - j.startedAt);
      addCpu(j);
      keep(fanOutCpuMs, j.cpuMs);
      keep(fanOutSysMs, j.sysMs);
      job = null;
    }
  };

  const unsubscribe = ctx.hub.subscribe((frame: HubFrame) => {
    queue.push(frame);
    if (pumping) return;
    pumping = true;
    pump();
  });

  const heartbeat = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        drop(c);
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

  ctx.streamStats = () => ({
    clients: clients.size,
    ...stats,
    frameSendMs: [...frameSendMs],
    fanOutMs: [...fanOutMs],
    fanOutCpuMs: [...fanOutCpuMs],
    fanOutSysMs: [...fanOutSysMs],
  });

  app.get(
    '/api/stream',
    {
      websocket: true,
      schema: {
        tags: ['live'],
        summary: 'WebSocket: snapshot, then numbered delta frames (see dashboard/live/model.ts)',
        security: OPTIONAL_AUTH,
        querystring: Type.Object(
          {
            since: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
            ticket: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    (ws, req) => {
      let principal = req.principal;
      if (req.query.ticket !== undefined) {
        const p = ctx.tickets.redeem(req.query.ticket);
        if (!p) {
          ws.close(
            CLOSE_BAD_TICKET,
            JSON.stringify(
              new MicrogridError('UNAUTHORIZED', 'the stream ticket is unknown or expired', {
                field: 'ticket',
              }).toJSON(),
            ).slice(0, 120),
          );
          return;
        }
        principal = p;
      }
      const c: Client = { ws, principal, alive: true, seq: ctx.hub.seq };
      ws.on('pong', () => (c.alive = true));
      ws.on('close', () => clients.delete(c));
      // Messages from clients are not part of the protocol; ignore them (maxPayload bounds their size).
      const since = req.query.since === undefined ? undefined : Number(req.query.since);
      const missed = since === undefined ? null : ctx.hub.framesSince(since);
      // Replayed frames or the snapshot first; both end at hub.seq (c.seq).
      if (missed) for (const f of missed) write(c, ctx.cutter.delta(f, principal));
      else write(c, JSON.stringify(ctx.cutter.snapshot(ctx.hub.state, ctx.hub.seq, principal, deps.clock.now())));
      clients.add(c);
    },
  );
}
