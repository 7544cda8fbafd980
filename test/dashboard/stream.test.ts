import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { makeFixture, auth, TOKENS, fixtureConfig, type Fixture } from './fixture.js';
import type { MicrogridEvent, ReadingEvent } from '../../core/events.js';
import {
  applyDelta,
  deltaReadings,
  type DeltaFrame,
  type LiveState,
  type SnapshotFrame,
  type StreamFrame,
} from '../../dashboard/live/model.js';

// Real WebSocket clients over loopback against a listening server (plus one injectWS case).

const f = await makeFixture({
  readingGapMs: 300,
  config: fixtureConfig({ server: { stream: { heartbeatMs: 150, maxBufferedBytes: 64 * 1024, replayFrames: 5 } } }),
});
await f.app.listen({ host: '127.0.0.1', port: 0 });
const port = (f.app.server.address() as { port: number }).port;
after(() => f.app.close());

const reading = (meterId: string, powerW: number, ts = new Date().toISOString()): ReadingEvent => ({
  type: 'reading',
  meterId,
  ts,
  powerW,
  importWh: 1000,
  exportWh: 2000,
  voltageV: 230,
  frequencyHz: 50,
  quality: 'good',
});

interface Client {
  ws: WebSocket;
  frames: StreamFrame[];
  /** The state this client holds after a frame: its snapshot with every delta since applied, as the page does. */
  after(fr: StreamFrame): LiveState;
  next(pred?: (f: StreamFrame) => boolean, timeoutMs?: number): Promise<StreamFrame>;
  closed: Promise<{ code: number; reason: string }>;
}

function client(query = '', headers: Record<string, string> = {}, fx: Fixture = f, p = port): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${p}/api/stream${query}`, { headers });
  const frames: StreamFrame[] = [];
  let read = 0;
  const waiters: (() => void)[] = [];
  // Built on demand (a client here may get 1,500 frames of 400 KB of alarms): from the last snapshot before the frame.
  const after = (fr: StreamFrame): LiveState => {
    const at = frames.indexOf(fr);
    let from = at;
    while (from >= 0 && frames[from]!.type !== 'snapshot') from--;
    if (at < 0 || from < 0) throw new Error(`no state after frame ${fr.seq} (a delta before any snapshot)`);
    const live = structuredClone((frames[from] as SnapshotFrame).state);
    for (const d of frames.slice(from + 1, at + 1)) applyDelta(live, d as DeltaFrame);
    return live;
  };
  ws.on('message', (d) => {
    const fr = JSON.parse(d.toString()) as StreamFrame;
    frames.push(fr);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  void fx;
  const next = async (pred: (f: StreamFrame) => boolean = () => true, timeoutMs = 3000): Promise<StreamFrame> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (read < frames.length) {
        const fr = frames[read++]!;
        if (pred(fr)) return fr;
      }
      if (Date.now() > deadline)
        throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames).slice(0, 400)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames, after, next, closed }));
    ws.once('error', reject);
  });
}

const hasReading = (meterId: string) => (fr: StreamFrame) =>
  fr.type === 'delta' && deltaReadings(fr).some((e) => e.meterId === meterId);

test('a snapshot on connect, then numbered deltas with the balance', async () => {
  const c = await client('', auth(TOKENS.operator));
  const snap = (await c.next()) as SnapshotFrame;
  assert.equal(snap.type, 'snapshot');
  assert.equal(Object.keys(snap.state.meters).length, 5);
  assert.equal(snap.state.lastCleared?.clearingPrice, '0.1500');
  // One poll round of the bridge: emitted in the same tick → one frame.
  f.bus.emit(reading('h01-grid', -1500));
  f.bus.emit(reading('h01-pv', -2500));
  f.bus.emit(reading('h03-grid', 1200));
  const d = (await c.next()) as DeltaFrame;
  assert.equal(d.type, 'delta');
  assert.equal(d.seq, snap.seq + 1);
  assert.equal(deltaReadings(d).length, 3);
  const b = c.after(d).balance;
  assert.equal(b.generationW, 2500);
  assert.equal(b.netGridW, -300);
  assert.equal(b.gridExportW, 300);
  assert.equal(b.consumptionW, 2200);
  assert.equal(b.localW, 1200);
  assert.equal(b.selfSufficiency, 1);
  c.ws.close();
});

test('every event type reaches the operator; an interval clearing shows up with the traded energy', async () => {
  const c = await client('', auth(TOKENS.operator));
  await c.next();
  const events: MicrogridEvent[] = [
    {
      type: 'device-health',
      deviceId: 'dev-h02',
      status: 'offline',
      lastError: 'timeout',
      lastPollAt: new Date().toISOString(),
    },
    {
      type: 'alarm',
      severity: 'critical',
      code: 'METER_OFFLINE',
      message: 'h02-grid offline',
      subject: 'h02-grid',
      at: new Date().toISOString(),
    },
    { type: 'settlement-state', interval: '2026-11-21T12:00:00Z', state: 'final', txHash: '0x' + 'c'.repeat(64) },
    {
      type: 'interval-cleared',
      interval: '2026-11-21T12:00:00Z',
      kind: 'metered',
      clearingPrice: '0.1500',
      matchedWh: 500,
      trades: 2,
    },
  ];
  for (const e of events) f.bus.emit(e);
  const d = (await c.next()) as DeltaFrame;
  assert.deepEqual(
    d.events.map((e) => e.type),
    ['device-health', 'alarm', 'settlement-state', 'interval-cleared'],
  );
  assert.equal(c.after(d).balance.lastClearingPrice, '0.1500');
  assert.equal(c.after(d).balance.tradedWhToday, 500);
  c.ws.close();
});

test('a household stream carries only its own meters and devices', async () => {
  const h = await client('', auth(TOKENS.h01));
  const snap = (await h.next()) as SnapshotFrame;
  assert.deepEqual(Object.keys(snap.state.meters).sort(), ['h01-grid', 'h01-pv']);
  assert.ok(snap.state.alarms.every((a) => a.subject.startsWith('h01')));
  await new Promise((r) => setTimeout(r, 350));
  f.bus.emit(reading('h02-grid', 800));
  f.bus.emit({ type: 'device-health', deviceId: 'dev-h02', status: 'online', lastError: null, lastPollAt: null });
  f.bus.emit({
    type: 'alarm',
    severity: 'warning',
    code: 'METER_STALE',
    message: 'h02-grid stale',
    subject: 'h02-grid',
    at: new Date().toISOString(),
  });
  f.bus.emit(reading('h01-grid', 100));
  const d = (await h.next()) as DeltaFrame;
  assert.deepEqual([...deltaReadings(d).map((e) => e.meterId), ...d.events.map((e) => e.type)], ['h01-grid']);
  // The public stream: aggregate only.
  const pub = await client();
  const ps = (await pub.next()) as SnapshotFrame;
  assert.deepEqual(ps.state.meters, {});
  assert.deepEqual(ps.state.alarms, []);
  assert.ok(ps.state.balance.metersKnown >= 5, 'the aggregate counts every meter');
  h.ws.close();
  pub.ws.close();
});

test('readings go out at most once per gap per meter, the newest winning', async () => {
  const c = await client('', auth(TOKENS.operator));
  await c.next();
  await new Promise((r) => setTimeout(r, 350));
  const t0 = Date.now();
  for (let i = 1; i <= 10; i++) {
    f.bus.emit(reading('h02-pv', i * 100));
    await new Promise((r) => setTimeout(r, 10));
  }
  const first = (await c.next(hasReading('h02-pv'))) as DeltaFrame;
  const second = (await c.next(hasReading('h02-pv'))) as DeltaFrame;
  const power = (fr: DeltaFrame) => deltaReadings(fr).find((e) => e.meterId === 'h02-pv')!.powerW;
  assert.equal(power(first), 100);
  assert.equal(power(second), 1000, 'the trailing send carries the newest reading');
  assert.ok(second.t - t0 >= 260, `second reading waited for its slot, less the 10 % slack (${second.t - t0} ms)`);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(c.frames.filter(hasReading('h02-pv')).length, 2, 'ten readings in 100 ms became two frames');
  c.ws.close();
});

test('a client that reconnects with its last seq gets what it missed, or a snapshot when too much was missed', async () => {
  const c = await client('', auth(TOKENS.operator));
  const snap = (await c.next()) as SnapshotFrame;
  c.ws.close();
  await c.closed;
  for (let i = 0; i < 3; i++) {
    f.bus.emit({
      type: 'alarm',
      severity: 'info',
      code: 'TEST',
      message: `missed ${i}`,
      subject: 'h01-grid',
      at: new Date().toISOString(),
    });
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 20));
  const back = await client(`?since=${snap.seq}`, auth(TOKENS.operator));
  const got = [await back.next(), await back.next(), await back.next()] as DeltaFrame[];
  assert.deepEqual(
    got.map((x) => x.seq),
    [snap.seq + 1, snap.seq + 2, snap.seq + 3],
  );
  assert.deepEqual(
    got.map((x) => x.type),
    ['delta', 'delta', 'delta'],
  );
  back.ws.close();
  for (let i = 0; i < 8; i++) {
    f.bus.emit({
      type: 'alarm',
      severity: 'info',
      code: 'TEST',
      message: `lost ${i}`,
      subject: 'h01-grid',
      at: new Date().toISOString(),
    });
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 20));
  const late = await client(`?since=${snap.seq}`, auth(TOKENS.operator));
  const fresh = await late.next();
  assert.equal(fresh.type, 'snapshot', 'more than replayFrames (5) were missed');
  late.ws.close();
});

test('the heartbeat drops a client that stops answering pings', async () => {
  const dead = new WebSocket(`ws://127.0.0.1:${port}/api/stream`, { autoPong: false });
  const closed = new Promise<number>((r) => dead.on('close', (code) => r(code)));
  await new Promise((r) => dead.once('open', r));
  const live = await client();
  const t0 = Date.now();
  const code = await closed;
  assert.equal(code, 1006, 'terminated, not closed politely');
  assert.ok(Date.now() - t0 < 1500);
  assert.equal(live.ws.readyState, WebSocket.OPEN, 'a client that answers stays');
  live.ws.close();
});

/** A WebSocket client that completes the handshake and then stops reading: a slow consumer. */
function stalledClient(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(
        `GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${TOKENS.operator}\r\n\r\n`,
      );
    });
    s.once('data', (d) => {
      if (!d.toString().startsWith('HTTP/1.1 101')) return reject(new Error(d.toString()));
      s.pause();
      resolve(s);
    });
    s.on('error', () => {});
  });
}

test('a slow client whose buffer fills is dropped; the others get every frame', async () => {
  const slow = await stalledClient();
  const slowClosed = new Promise<void>((r) => slow.on('close', () => r()));
  const fast = await client('', auth(TOKENS.operator));
  const snap = await fast.next();
  const big = 'x'.repeat(8000);
  const N = 1500;
  for (let i = 0; i < N; i++) {
    f.bus.emit({
      type: 'alarm',
      severity: 'info',
      code: 'BULK',
      message: big,
      subject: 'h01-grid',
      at: new Date().toISOString(),
    });
    await new Promise((r) => setImmediate(r));
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  const last = (await fast.next((fr) => fr.seq === snap.seq + N, 10_000)) as DeltaFrame;
  assert.equal(last.seq, snap.seq + N);
  const seqs = fast.frames.slice(1).map((x) => x.seq);
  assert.deepEqual(
    seqs,
    Array.from({ length: N }, (_, i) => snap.seq + 1 + i),
    'no frame lost or reordered for the fast client',
  );
  slow.resume();
  await slowClosed;
  assert.ok((f.app.mgx.streamStats?.().dropped ?? 0) >= 1);
  fast.ws.close();
});

test('a browser trades its token for a one-use ticket; a bad ticket is refused', async () => {
  const t = (await f.app.inject({ method: 'POST', url: '/api/stream/ticket', headers: auth(TOKENS.h02) })).json();
  const c = await client(`?ticket=${t.ticket}`);
  const snap = (await c.next()) as SnapshotFrame;
  assert.deepEqual(Object.keys(snap.state.meters).sort(), ['h02-grid', 'h02-pv']);
  c.ws.close();
  const reuse = await client(`?ticket=${t.ticket}`);
  assert.equal((await reuse.closed).code, 1008, 'a ticket works once');
  assert.equal((await f.app.inject({ method: 'POST', url: '/api/stream/ticket' })).statusCode, 401);
});

test("injectWS: the snapshot through fastify's own injector; a bad token on the upgrade is refused", async () => {
  let first: (m: string) => void = () => {};
  const msgP = new Promise<string>((r) => (first = r));
  // The snapshot can arrive in the same chunk as the 101 response: listen before 'open'.
  const ws = await f.app.injectWS(
    '/api/stream',
    { headers: auth(TOKENS.auditor) },
    { onInit: (w) => w.once('message', (d) => first(d.toString())) },
  );
  const msg = await msgP;
  const snap = JSON.parse(msg) as SnapshotFrame;
  assert.equal(snap.type, 'snapshot');
  assert.equal(Object.keys(snap.state.meters).length, 5);
  ws.terminate();
  await assert.rejects(f.app.injectWS('/api/stream', { headers: { authorization: 'Bearer wrong-token-0000000000' } }));
});

test('graceful shutdown closes every client with 1001', async () => {
  const g = await makeFixture();
  await g.app.listen({ host: '127.0.0.1', port: 0 });
  const gp = (g.app.server.address() as { port: number }).port;
  const a = await client('', {}, g, gp);
  const b = await client('', auth(TOKENS.operator), g, gp);
  await a.next();
  await g.app.close();
  assert.deepEqual([(await a.closed).code, (await b.closed).code], [1001, 1001]);
});

test('the current interval follows the market clock, with no event needed; an empty forward clearing keeps the last price', async () => {
  const g = await makeFixture();
  await g.app.listen({ host: '127.0.0.1', port: 0 });
  const gp = (g.app.server.address() as { port: number }).port;
  const c = await client('', auth(TOKENS.operator), g, gp);
  const snap = (await c.next()) as SnapshotFrame;
  assert.equal(snap.state.currentInterval, '2026-11-21T12:15:00Z');
  await g.clock.advanceTo(Date.parse('2026-11-21T12:30:30Z'));
  const moved = (await c.next(
    (fr) => fr.type === 'delta' && c.after(fr).currentInterval === '2026-11-21T12:30:00Z',
    3000,
  )) as DeltaFrame;
  assert.deepEqual(moved.events, []);
  assert.equal(c.after(moved).currentIntervalState, null, 'no ledger row yet for 12:30');
  // Intervals clear ahead of time: a forward clearing of the next interval with an empty book has no price.
  g.bus.emit({
    type: 'interval-cleared',
    interval: '2026-11-21T12:45:00Z',
    kind: 'forward',
    clearingPrice: null,
    matchedWh: 0,
    trades: 0,
  });
  g.bus.emit({
    type: 'interval-state',
    interval: '2026-11-21T12:45:00Z',
    state: 'cleared',
    at: new Date().toISOString(),
  });
  const d = (await c.next((fr) => fr.type === 'delta' && fr.events.length > 0)) as DeltaFrame;
  assert.equal(c.after(d).balance.lastClearingPrice, '0.1500');
  assert.equal(
    c.after(d).currentInterval,
    '2026-11-21T12:30:00Z',
    "a future interval's state does not make it current",
  );
  c.ws.close();
  await g.app.close();
});

test('a fan-out in slices: every client gets every frame once and in order, a client joining mid-fan-out starts after its snapshot', async () => {
  // Slice 0 ms: the fan-out yields to the event loop after every 16 clients, so frames overlap fan-outs and clients
  // connect in between.
  const g = await makeFixture({ streamSliceMs: 0 });
  await g.app.listen({ host: '127.0.0.1', port: 0 });
  const gp = (g.app.server.address() as { port: number }).port;
  try {
    const many = await Promise.all(
      Array.from({ length: 60 }, (_, i) => client('', i % 3 === 0 ? {} : auth(TOKENS.operator), g, gp)),
    );
    const first = await Promise.all(many.map((c) => c.next()));
    const N = 30;
    const late: Promise<Client>[] = [];
    for (let i = 0; i < N; i++) {
      g.bus.emit({
        type: 'alarm',
        severity: 'info',
        code: 'TEST',
        message: `slice ${i}`,
        subject: 'h01-grid',
        at: new Date().toISOString(),
      });
      await new Promise((r) => setImmediate(r));
      if (i % 10 === 5) late.push(client('', auth(TOKENS.operator), g, gp));
    }
    const lateClients = await Promise.all(late);
    const end = first[0]!.seq + N;
    for (const [i, c] of many.entries()) {
      await c.next((fr) => fr.seq === end, 5000);
      assert.deepEqual(
        c.frames.map((x) => x.seq),
        Array.from({ length: N + 1 }, (_, k) => first[i]!.seq + k),
        `client ${i}: each seq once, in order`,
      );
    }
    for (const c of lateClients) {
      const snap = await c.next();
      assert.equal(snap.type, 'snapshot');
      if (snap.seq < end) await c.next((fr) => fr.seq === end, 5000);
      assert.deepEqual(
        c.frames.map((x) => x.seq),
        Array.from({ length: end - snap.seq + 1 }, (_, k) => snap.seq + k),
        'after the snapshot, the next seqs once each',
      );
    }
    const stats = g.app.mgx.streamStats?.();
    assert.equal(stats?.dropped, 0);
    assert.ok((stats?.fanOutMs.length ?? 0) >= N);
    assert.equal(stats?.fanOutCpuMs.length, stats?.fanOutMs.length, 'CPU time recorded for every fan-out');
    assert.ok(
      stats!.fanOutSysMs.every((sys, i) => sys >= 0 && sys <= stats!.fanOutCpuMs[i]!),
      'the kernel part is part of the CPU time',
    );
    for (const c of [...many, ...lateClients]) c.ws.close();
  } finally {
    await g.app.close();
  }
});
