import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeFixture, auth, TOKENS, fixtureConfig, T0, MIN15 } from '../fixture.js';

// Issue 13, item 6: one write budget per token across every write route, and refused
// tokens counted per address.
const f = await makeFixture({
  config: fixtureConfig({ server: { rateLimit: { writesPerMinute: 5, failedAuthPerMinute: 4 } } }),
});
after(() => f.app.close());
const future = new Date(T0 + 8 * MIN15).toISOString();

test("a token's writes share one budget: after it is spent every write route answers 429, another token still writes", async () => {
  const h01 = auth(TOKENS.h01);
  for (let i = 0; i < 5; i++) {
    const r = await f.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: h01,
      payload: { side: 'bid', interval: future, energyWh: 10, price: '0.2000' },
    });
    assert.equal(r.statusCode, 201, r.body);
  }
  const over = [
    await f.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: h01,
      payload: { side: 'bid', interval: future, energyWh: 10, price: '0.2000' },
    }),
    await f.app.inject({
      method: 'PUT',
      url: '/api/participants/h01/policy',
      headers: h01,
      payload: { minSellPrice: null, maxBuyPrice: null },
    }),
    await f.app.inject({ method: 'POST', url: '/api/stream/ticket', headers: h01 }),
    await f.app.inject({ method: 'DELETE', url: '/api/orders/ord_x', headers: h01 }),
  ];
  assert.deepEqual(
    over.map((r) => r.statusCode),
    [429, 429, 429, 429],
  );
  for (const r of over) assert.equal(r.json().code, 'RATE_LIMITED');
  assert.equal(
    (await f.app.inject({ method: 'POST', url: '/api/stream/ticket', headers: auth(TOKENS.h02) })).statusCode,
    200,
  );
  assert.equal((await f.app.inject({ url: '/api/orders', headers: h01 })).statusCode, 200, 'reads are not writes');
});

test('refused tokens are counted per address: the next guess gets 429, other addresses are not affected', async () => {
  const guess = (i: number, remoteAddress: string) =>
    f.app.inject({
      url: '/api/health',
      remoteAddress,
      headers: { authorization: `Bearer guess-${i}-0000000000000000` },
    });
  for (let i = 0; i < 4; i++) assert.equal((await guess(i, '10.0.0.7')).statusCode, 401);
  const r = await guess(99, '10.0.0.7');
  assert.equal(r.statusCode, 429);
  assert.equal(r.json().code, 'RATE_LIMITED');
  // Even the right token: the address is refused until the minute is over, so a guess that hits is not told so.
  assert.equal(
    (await f.app.inject({ url: '/api/me', remoteAddress: '10.0.0.7', headers: auth(TOKENS.auditor) })).statusCode,
    429,
  );
  assert.equal((await guess(100, '10.0.0.8')).statusCode, 401);
  assert.equal(
    (await f.app.inject({ url: '/api/me', remoteAddress: '10.0.0.8', headers: auth(TOKENS.auditor) })).json().role,
    'auditor',
  );
});
