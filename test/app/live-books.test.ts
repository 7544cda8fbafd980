import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { EventBus } from '../../core/events.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { toIso } from '../../core/interval.js';
import type { OrderInput } from '../../core/market.js';
import { openLedger } from '../../ledger/ledger.js';
import { upsertParticipant, listMeters } from '../../ledger/participants.js';
import { getClearing } from '../../ledger/clearing.js';
import { listOpenForwardOrders, listOrders } from '../../ledger/orders.js';
import { deliverableWh } from '../../core/market.js';
import { buildDashboard } from '../../dashboard/app.js';
import { clearBook, rulesFromConfig, screenOrders } from '../../matching-engine/index.js';
import { LiveBooks } from '../../app/live-books.js';
import { createCycleSteps } from '../../app/cycle-steps.js';
import { auth, ENV, fixtureConfig, MIN15, T0, TOKENS } from '../dashboard/fixture.js';
import { tempDir } from '../helpers/tmp.js';

// Issue 16, part 2: forward orders placed through the API are in their interval's live OrderBook, the ledger stays
// the record (a restart rebuilds the book from it), and gate closure clears the book.
const config = fixtureConfig({ server: { rateLimit: { writesPerMinute: 100000 } } });
const rules = rulesFromConfig(config.market);
const S = T0 + 4 * MIN15;
const NOW = T0 + MIN15 + 60_000;
const open: { close(): Promise<void> }[] = [];
after(async () => {
  for (const m of open) await m.close();
});

/** The market part of app/start.ts on a data dir: ledger, live books (restored), dashboard, cycle steps. */
async function market(dir: string, cfg = config) {
  const config = cfg;
  const rules = rulesFromConfig(config.market);
  const clock = new ManualClock(NOW);
  const ledger = openLedger(join(dir, 'ledger.sqlite'));
  for (const p of config.participants) upsertParticipant(ledger, p, clock.now());
  const bus = new EventBus();
  const books = new LiveBooks(ledger, config, rules);
  books.restore(clock.now());
  const app = buildDashboard({
    ledger,
    config,
    clock,
    bus,
    version: 'test',
    env: ENV,
    buildBundle: false,
    forwardOrders: books,
  });
  await app.ready();
  const steps = createCycleSteps({ ledger, config, clock, bus, books });
  const m = {
    ledger,
    bus,
    books,
    app,
    steps,
    close: async () => {
      await app.close();
      ledger.close();
    },
  };
  open.push(m);
  return m;
}
/** Lets what the bus's interval-cleared starts (the live hub's reads) finish. */
const settled = () => new Promise((r) => setTimeout(r, 20));
type Market = Awaited<ReturnType<typeof market>>;

const post = (m: Market, token: string, body: Record<string, unknown>) =>
  m.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: auth(token),
    payload: { interval: toIso(S), ...body },
  });

/** A seeded sequence of posts and cancels over three participants, both sides, prices across the spread. */
async function trade(m: Market, seed: number, n: number): Promise<string[]> {
  let x = seed >>> 0;
  const rnd = (): number => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const placed: string[] = [];
  for (let i = 0; i < n; i++) {
    if (placed.length > 0 && rnd() < 0.2) {
      const id = placed.splice(Math.floor(rnd() * placed.length), 1)[0]!;
      const r = await m.app.inject({ method: 'DELETE', url: `/api/orders/${id}`, headers: auth(TOKENS.operator) });
      assert.equal(r.statusCode, 200, r.body);
      continue;
    }
    const side = rnd() < 0.5 ? 'bid' : 'offer';
    const r = await post(m, TOKENS.operator, {
      participant: ['h01', 'h02', 'h03'][Math.floor(rnd() * 3)],
      side,
      energyWh: 1 + Math.floor(rnd() * 400),
      price: (0.08 + Math.floor(rnd() * 2200) / 10_000).toFixed(4),
      ...(rnd() < 0.2 ? { partners: ['h01', 'h03'] } : {}),
      ...(side === 'bid' && rnd() < 0.1 ? { greenOnly: true } : {}),
    });
    // A participant's side is bounded by what its meters deliver: a refusal of that kind is the API working.
    if (r.statusCode === 400) assert.equal(r.json().code, 'INVALID_ENERGY', r.body);
    else {
      assert.equal(r.statusCode, 201, r.body);
      placed.push(r.json().id as string);
    }
  }
  return placed;
}

const byId = (a: OrderInput, b: OrderInput) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The clearing as gate closure made it before the book was live: the ledger's open rows, screened, cleared as a list. */
function oldPath(m: Market) {
  const orders: OrderInput[] = listOpenForwardOrders(m.ledger, S).map((r) => ({
    id: r.id,
    participant: r.participant,
    side: r.side,
    interval: toIso(S),
    energyWh: r.energyWh,
    price: r.price,
    zone: r.zone,
    seq: r.seq,
    ...(r.partners ? { partners: r.partners } : {}),
    ...(r.greenOnly ? { greenOnly: true } : {}),
  }));
  const meters = listMeters(m.ledger);
  const capacityOf = (p: string) =>
    deliverableWh(
      meters.filter((x) => x.participantId === p),
      config.market.intervalMinutes,
    );
  const screened = screenOrders({ interval: toIso(S), kind: 'forward', orders }, rules, capacityOf);
  return { orders, result: clearBook({ interval: toIso(S), kind: 'forward', orders: screened.orders }, rules) };
}

test('an order posted through the API is in its interval book with the seq the ledger gave it; a cancel takes it out', async () => {
  const m = await market(tempDir('mgx-live-'));
  const r = await post(m, TOKENS.h01, { side: 'offer', energyWh: 300, price: '0.1200', partners: ['h02'] });
  assert.equal(r.statusCode, 201, r.body);
  const row = r.json();
  const live = m.books.book(S);
  assert.deepEqual(live.book.get(row.id), {
    id: row.id,
    participant: 'h01',
    side: 'offer',
    interval: toIso(S),
    energyWh: 300,
    price: '0.1200',
    zone: 'north',
    seq: row.seq,
    partners: ['h02'],
  });
  assert.equal(m.books.heldWh('h01', S, 'offer'), 300);
  const d = await m.app.inject({ method: 'DELETE', url: `/api/orders/${row.id}`, headers: auth(TOKENS.h01) });
  assert.equal(d.statusCode, 200, d.body);
  assert.equal(d.json().status, 'cancelled');
  assert.equal(live.book.get(row.id), undefined, 'cancelled in the book too');
  assert.equal(live.book.size, 0);
  assert.equal(m.books.heldWh('h01', S, 'offer'), 0);
});

test('an order the engine refuses is refused at arrival, its field named, and nothing is stored', async () => {
  const m = await market(tempDir('mgx-live-'));
  // greenOnly is for bids: before the live book the API stored this offer and gate closure excluded it.
  const r = await post(m, TOKENS.h02, { side: 'offer', energyWh: 200, price: '0.1200', greenOnly: true });
  assert.equal(r.statusCode, 400, r.body);
  assert.equal(r.json().code, 'INVALID_INPUT');
  assert.equal(r.json().field, 'greenOnly');
  assert.equal(r.json().value, true);
  assert.deepEqual(listOrders(m.ledger, { intervalStart: S }), [], 'no row');
  assert.equal(m.books.book(S).book.size, 0, 'not in the book');
  assert.equal(m.books.heldWh('h02', S, 'offer'), 0);
  // The next order draws the next seq: the refused one's insert was rolled back with it.
  const ok = await post(m, TOKENS.h02, { side: 'offer', energyWh: 200, price: '0.1200' });
  assert.equal(ok.statusCode, 201, ok.body);
  assert.equal(ok.json().seq, 1);
});

test('gate closure clears the live book: the stored clearing is clearBook on the ledger rows (the old path), and the book is dropped', async () => {
  const m = await market(tempDir('mgx-live-'));
  const placed = await trade(m, 16, 120);
  const live = m.books.book(S);
  const old = oldPath(m);
  assert.deepEqual(live.book.orders().sort(byId), old.orders.sort(byId), 'the book holds exactly the open rows');
  assert.ok(old.result.matchedWh > 0 && old.result.trades.length > 3, 'a book that trades');
  m.ledger.tx(() => m.steps.clearForward(S));
  assert.equal(canonicalJson(getClearing(m.ledger, S, 'forward')), canonicalJson(old.result));
  assert.ok(live.book.closed);
  assert.ok(!m.books.intervals().includes(S), 'the book of an interval past gate closure is not kept');
  assert.deepEqual(listOrders(m.ledger, { intervalStart: S, status: 'open' }), []);
  const late = await post(m, TOKENS.h01, { side: 'bid', energyWh: 10, price: '0.2000' });
  assert.equal(late.statusCode, 409, 'a cleared interval takes no more orders');
  assert.equal(late.json().code, 'ORDER_GATE_CLOSED');
  const cancel = await m.app.inject({
    method: 'DELETE',
    url: `/api/orders/${placed[0]}`,
    headers: auth(TOKENS.operator),
  });
  assert.equal(cancel.statusCode, 409, 'a closed order cannot be cancelled');
  assert.ok(!m.books.intervals().includes(S), 'and no new book is made for the interval');
});

test('a restart rebuilds the book from the ledger with the same orders, and clears as it would have without it', async () => {
  const dir = tempDir('mgx-live-');
  const a = await market(dir);
  await trade(a, 7, 120);
  const before = a.books.book(S).book.orders().sort(byId);
  // What gate closure would have cleared without the restart (the old process's book, cleared in place).
  const unrestarted = canonicalJson(a.books.book(S).book.clear('forward'));
  await a.close();

  const b = await market(dir);
  assert.deepEqual(b.books.intervals(), [S], 'restored at start');
  assert.deepEqual(b.books.book(S).book.orders().sort(byId), before);
  for (const p of ['h01', 'h02', 'h03'])
    for (const side of ['bid', 'offer'] as const)
      assert.equal(
        b.books.heldWh(p, S, side),
        before.filter((o) => o.participant === p && o.side === side).reduce((s, o) => s + o.energyWh, 0),
        `${p} ${side}s held`,
      );
  b.ledger.tx(() => b.steps.clearForward(S));
  assert.equal(canonicalJson(getClearing(b.ledger, S, 'forward')), unrestarted);
  await settled(); // the dashboard hears of the clearing and reads the ledger before it closes
});

test('after a restart with a lower rated power the later orders beyond it are rejected at gate closure with ORDER_EXCLUDED; a cancelled one is not', async () => {
  const dir = tempDir('mgx-live-');
  const a = await market(dir);
  const ids: string[] = [];
  for (const energyWh of [3000, 2000, 1001]) {
    const r = await post(a, TOKENS.h01, { side: 'bid', energyWh, price: '0.2000' });
    assert.equal(r.statusCode, 201, r.body);
    ids.push(r.json().id as string);
  }
  await a.close();
  // 16 kW × 15 min = 4000 Wh: the first bid fits, the second and third (in seq order) take h01 beyond it.
  const lower = fixtureConfig({
    server: { rateLimit: { writesPerMinute: 100000 } },
    participants: config.participants.map((p) =>
      p.id === 'h01'
        ? { ...p, meters: p.meters.map((m) => (m.role === 'grid' ? { ...m, ratedPowerW: 16000 } : m)) }
        : p,
    ),
  });
  const b = await market(dir, lower);
  const live = b.books.book(S);
  assert.deepEqual(
    live.book.orders().map((o) => o.id),
    [ids[0]],
  );
  assert.deepEqual(
    live.refused.map((r) => r.id),
    [ids[1], ids[2]],
  );
  assert.equal(b.books.heldWh('h01', S, 'bid'), 3000, 'what the book holds, not the refused rows');
  const d = await b.app.inject({ method: 'DELETE', url: `/api/orders/${ids[2]}`, headers: auth(TOKENS.h01) });
  assert.equal(d.statusCode, 200, d.body);
  const alarms: string[] = [];
  b.bus.on('alarm', (x) => alarms.push(`${x.code} ${x.message}`));
  b.ledger.tx(() => b.steps.clearForward(S));
  await settled();
  const status = (id: string) => listOrders(b.ledger, { intervalStart: S }).find((o) => o.id === id)!;
  assert.equal(status(ids[0]!).status, 'closed');
  assert.equal(status(ids[1]!).status, 'rejected');
  assert.match(status(ids[1]!).rejectedReason ?? '', /^INVALID_ENERGY: .*4000 Wh/);
  assert.equal(status(ids[2]!).status, 'cancelled', 'cancelled before gate closure: nothing to reject');
  assert.equal(alarms.length, 1);
  assert.match(alarms[0]!, new RegExp(`^ORDER_EXCLUDED 1 forward order\\(s\\) .*${ids[1]}`));
});
