import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { makeFixture, auth, TOKENS, fixtureConfig, T0, MIN15 } from '../fixture.js';
import { IntervalCycle } from '../../../app/interval-cycle.js';
import { createCycleSteps } from '../../../app/cycle-steps.js';
import { getInterval } from '../../../ledger/intervals.js';
import { getOrder, insertForwardOrder } from '../../../ledger/orders.js';
import { getClearing } from '../../../ledger/clearing.js';
import { MARKET_MAX_ORDER_WH, DEFAULT_RATED_POWER_W } from '../../../core/market.js';

// Issue 13, item 2: an order's energy is bounded by what its participant's meters can
// deliver in the interval and by the market maximum; one bad order at gate closure is
// excluded with its reason and never stops the interval.
const config = fixtureConfig({
  server: { rateLimit: { writesPerMinute: 100000 } },
  participants: [
    {
      id: 'h01',
      name: 'Household 01',
      zone: 'north',
      meters: [
        { id: 'h01-grid', role: 'grid', device: 'dev-h01', ratedPowerW: 4000 },
        { id: 'h01-pv', role: 'pv', device: 'dev-h01' },
      ],
      policy: {},
    },
    {
      id: 'h02',
      name: 'Household 02',
      zone: 'north',
      meters: [
        { id: 'h02-grid', role: 'grid', device: 'dev-h02' },
        { id: 'h02-pv', role: 'pv', device: 'dev-h02' },
      ],
      policy: {},
    },
    {
      id: 'h03',
      name: 'Household 03',
      zone: 'south',
      meters: [{ id: 'h03-grid', role: 'grid', device: 'dev-h03' }],
      policy: {},
    },
  ],
});
const f = await makeFixture({ config });
after(() => f.app.close());
const S = T0 + 4 * MIN15;
const order = (token: string, energyWh: number, side: 'bid' | 'offer' = 'bid', extra: Record<string, unknown> = {}) =>
  f.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: auth(token),
    payload: {
      side,
      interval: new Date(S).toISOString(),
      energyWh,
      price: side === 'bid' ? '0.2000' : '0.1000',
      ...extra,
    },
  });

test('the market maximum and a safe-integer flood are refused with the limit named', async () => {
  assert.ok(MARKET_MAX_ORDER_WH >= 100_000 && MARKET_MAX_ORDER_WH <= 10_000_000);
  for (const wh of [Number.MAX_SAFE_INTEGER, 1e12, MARKET_MAX_ORDER_WH + 1]) {
    const r = await order(TOKENS.operator, wh, 'bid', { participant: 'h02' });
    assert.equal(r.statusCode, 400, `${wh}: ${r.body}`);
    assert.equal(r.json().code, 'INVALID_ENERGY');
    assert.equal(r.json().field, 'energyWh');
  }
});

test('an order is at most rated power × interval: h01 4 kW × 15 min = 1000 Wh, across its open orders of a side', async () => {
  const over = await order(TOKENS.h01, 1001);
  assert.equal(over.statusCode, 400, over.body);
  assert.equal(over.json().code, 'INVALID_ENERGY');
  assert.match(over.json().expected, /1000 Wh/);
  assert.equal((await order(TOKENS.h01, 600)).statusCode, 201);
  const second = await order(TOKENS.h01, 401);
  assert.equal(second.statusCode, 400, 'the open bids together stay within what the meters deliver');
  assert.match(second.json().expected, /400 Wh/);
  assert.equal((await order(TOKENS.h01, 400)).statusCode, 201);
  // Priced above its own bids: a crossing offer would net against them at gate closure (no self-trades).
  assert.equal(
    (await order(TOKENS.h01, 1000, 'offer', { price: '0.2500' })).statusCode,
    201,
    'the other side has its own bound',
  );
  // No rated power configured: the stated default for a grid meter.
  const dflt = Math.floor((DEFAULT_RATED_POWER_W.grid * 15) / 60); // whole Wh, as deliverableWh floors
  assert.equal((await order(TOKENS.h02, dflt + 1, 'offer')).statusCode, 400);
  assert.equal((await order(TOKENS.h02, dflt, 'offer')).statusCode, 201);
});

test('at gate closure an order that slipped past the API is excluded and recorded with its reason; the interval clears for everyone else', async () => {
  // Orders written straight to the ledger (an older version, a hand edit): the engine screens them.
  const huge = insertForwardOrder(f.ledger, {
    id: 'ord_huge',
    intervalStart: S,
    participantId: 'h03',
    side: 'bid',
    energyWh: Number.MAX_SAFE_INTEGER,
    price: '0.2000',
    zone: 'south',
    partners: null,
    greenOnly: false,
    createdAt: f.clock.now(),
  });
  const offPrice = insertForwardOrder(f.ledger, {
    id: 'ord_price',
    intervalStart: S,
    participantId: 'h03',
    side: 'bid',
    energyWh: 10,
    price: '9.9999',
    zone: 'south',
    partners: null,
    greenOnly: false,
    createdAt: f.clock.now(),
  });
  const cycle = new IntervalCycle({
    ledger: f.ledger,
    clock: f.clock,
    bus: f.bus,
    log: pino({ level: 'silent' }),
    steps: createCycleSteps({ ledger: f.ledger, config, clock: f.clock, bus: f.bus }),
    minutes: 15,
    gateClosureSeconds: 300,
    gracePeriodSeconds: 60,
    retryMs: 1,
  });
  const alarms: string[] = [];
  f.bus.on('alarm', (a) => alarms.push(a.code));
  await cycle.tick();
  await f.clock.advanceTo(S - 300_000);
  await cycle.tick();
  await cycle.stop();
  assert.equal(getInterval(f.ledger, S)?.state, 'cleared');
  const clearing = getClearing(f.ledger, S, 'forward');
  assert.ok(clearing && clearing.matchedWh > 0, 'the valid orders traded');
  for (const [o, reason] of [
    [huge, /energyWh/],
    [offPrice, /price/],
  ] as const) {
    const row = getOrder(f.ledger, o.id)!;
    assert.equal(row.status, 'rejected', o.id);
    assert.match(row.rejectedReason ?? '', reason);
  }
  assert.ok(!clearing.trades.some((t) => t.buyOrder === 'ord_huge' || t.buyOrder === 'ord_price'));
  assert.ok(alarms.includes('ORDER_EXCLUDED'), 'the operator is told');
  const listed = (
    await f.app.inject({
      url: `/api/orders?interval=${new Date(S).toISOString()}&status=rejected`,
      headers: auth(TOKENS.operator),
    })
  ).json();
  assert.deepEqual(listed.map((o: { id: string }) => o.id).sort(), ['ord_huge', 'ord_price']);
  assert.match(listed[0].rejectedReason, /./);
});
