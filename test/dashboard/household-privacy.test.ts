import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeFixture, auth, TOKENS, fixtureConfig } from './fixture.js';

// The fixture's interval: h01 sold 300 Wh and h02 200 Wh to h03 (statements: h01 received 0.05, h03 paid 0.08).
const hidden = await makeFixture();
const named = await makeFixture({ config: fixtureConfig({ server: { showCounterpartyNames: true } }) });
after(() => Promise.all([hidden.app.close(), named.app.close()]));
const RANGE = 'from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z';
const get = (f: typeof hidden, url: string, token?: string) => f.app.inject({ url, headers: token ? auth(token) : {} });

test('a household sees "a neighbour" (null) for the other side of its trades, its order id too, unless server.showCounterpartyNames', async () => {
  const mine = (await get(hidden, `/api/trades?${RANGE}`, TOKENS.h01)).json();
  assert.deepEqual(
    mine.map((t: Record<string, unknown>) => [t.seller, t.buyer, t.sellOrder, t.buyOrder]),
    [['h01', null, 's0', null]],
  );
  const detail = (await get(hidden, '/api/intervals/2026-11-21T12:00:00Z', TOKENS.h01)).json();
  assert.deepEqual(
    detail.trades.map((t: Record<string, unknown>) => [t.seller, t.buyer, t.buyOrder]),
    [['h01', null, null]],
  );
  // The operator sees both sides of every trade.
  const all = (await get(hidden, `/api/trades?${RANGE}`, TOKENS.operator)).json();
  assert.deepEqual(all.map((t: Record<string, unknown>) => [t.seller, t.buyer]).sort(), [
    ['h01', 'h03'],
    ['h02', 'h03'],
  ]);
  const csv = await hidden.app.inject({ url: `/api/trades?${RANGE}&format=csv`, headers: auth(TOKENS.h01) });
  assert.equal(csv.statusCode, 200);
  assert.doesNotMatch(csv.body, /h03/, 'nor in the CSV');
  // Turned on by the operator: names.
  const shown = (await get(named, `/api/trades?${RANGE}`, TOKENS.h01)).json();
  assert.deepEqual(
    shown.map((t: Record<string, unknown>) => [t.seller, t.buyer]),
    [['h01', 'h03']],
  );
});

test("GET /api/participants/:id/today: the day's statements summed with the gain over the tariffs; own data only", async () => {
  const t = (await get(hidden, '/api/participants/h01/today', TOKENS.h01)).json();
  assert.deepEqual(
    {
      day: t.day,
      intervals: t.intervals,
      soldWh: t.soldWh,
      boughtWh: t.boughtWh,
      earned: t.earned,
      paid: t.paid,
      feedInValue: t.feedInValue,
      retailCost: t.retailCost,
      gainSelling: t.gainSelling,
      gainBuying: t.gainBuying,
      gain: t.gain,
    },
    // 300 Wh × 0.0800 / 1000 = 0.024 → 0.02 (rounded per interval as the statement's grid amount is).
    {
      day: '2026-11-21T00:00:00Z',
      intervals: 1,
      soldWh: 300,
      boughtWh: 0,
      earned: '0.05',
      paid: '0.00',
      feedInValue: '0.02',
      retailCost: '0.00',
      gainSelling: '0.03',
      gainBuying: '0.00',
      gain: '0.03',
    },
  );
  // The buyer: 500 Wh × 0.3000 / 1000 = 0.15 at retail, paid 0.08: gained 0.07.
  const h03 = (await get(hidden, '/api/participants/h03/today', TOKENS.operator)).json();
  assert.deepEqual(
    [h03.boughtWh, h03.paid, h03.retailCost, h03.gainBuying, h03.gain],
    [500, '0.08', '0.15', '0.07', '0.07'],
  );
  assert.equal((await get(hidden, '/api/participants/h02/today', TOKENS.h01)).statusCode, 403);
  assert.equal((await get(hidden, '/api/participants/h01/today')).statusCode, 401);
  const unknown = await get(hidden, '/api/participants/h09/today', TOKENS.operator);
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().code, 'NOT_FOUND');
});
