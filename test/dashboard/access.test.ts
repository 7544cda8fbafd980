import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeFixture, auth, TOKENS, fixtureConfig } from './fixture.js';

// Households try to read and change each other's data; every attempt must fail.
const f = await makeFixture({ config: fixtureConfig({ server: { rateLimit: { writesPerMinute: 1000 } } }) });
after(() => f.app.close());
const h01 = auth(TOKENS.h01);
const h02 = auth(TOKENS.h02);
const op = auth(TOKENS.operator);
const aud = auth(TOKENS.auditor);
const RANGE = 'from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z';

const get = (url: string, headers: Record<string, string> = {}) => f.app.inject({ url, headers });

test('without a token: the public aggregate view only', async () => {
  for (const url of [
    '/api/health',
    '/api/intervals',
    `/api/energy?${RANGE}`,
    '/api/state',
    '/api/me',
    '/api/intervals/2026-11-21T12:00:00Z',
  ]) {
    assert.equal((await get(url)).statusCode, 200, url);
  }
  const detail = (await get('/api/intervals/2026-11-21T12:00:00Z')).json();
  assert.deepEqual(
    [detail.trades, detail.statements, detail.energy, detail.settlement],
    [[], [], [], []],
    'no participant data in public',
  );
  const state = (await get('/api/state')).json();
  assert.deepEqual(state.state.meters, {});
  assert.deepEqual(state.state.devices, {});
  assert.ok(state.state.balance, 'the aggregate balance is public');
  for (const url of [
    '/api/participants',
    '/api/meters',
    '/api/orders',
    `/api/trades?${RANGE}`,
    `/api/statements?${RANGE}`,
    `/api/credits?${RANGE}`,
    `/api/settlement?${RANGE}`,
    `/api/audit/intervals?${RANGE}`,
  ]) {
    const r = await get(url);
    assert.equal(r.statusCode, 401, url);
    assert.equal(r.json().code, 'UNAUTHORIZED');
  }
  assert.equal((await get(`/api/energy?${RANGE}&participant=h01`)).statusCode, 401);
  const post = await f.app.inject({
    method: 'POST',
    url: '/api/orders',
    payload: { side: 'bid', interval: '2026-11-21T13:00:00Z', energyWh: 1, price: '0.2000' },
  });
  assert.equal(post.statusCode, 401);
});

test('a wrong or malformed token is refused, not treated as public', async () => {
  for (const h of ['Bearer not-a-real-token-000000', 'Basic abc', 'Bearer ', `Bearer ${TOKENS.h01}x`]) {
    const r = await get('/api/health', { authorization: h });
    assert.equal(r.statusCode, 401, h);
    assert.equal(r.json().code, 'UNAUTHORIZED');
  }
});

test('a household sees only its own participant, meters, trades, statements, credits, energy and orders', async () => {
  assert.deepEqual(
    (await get('/api/participants', h01)).json().map((p: { id: string }) => p.id),
    ['h01'],
  );
  assert.deepEqual(
    (await get('/api/meters', h01)).json().map((m: { id: string }) => m.id),
    ['h01-grid', 'h01-pv'],
  );
  const trades = (await get(`/api/trades?${RANGE}`, h01)).json();
  assert.ok(
    trades.length > 0 &&
      trades.every((t: { buyer: string; seller: string }) => t.buyer === 'h01' || t.seller === 'h01'),
  );
  assert.deepEqual(
    (await get(`/api/statements?${RANGE}`, h01)).json().map((s: { participant: string }) => s.participant),
    ['h01'],
  );
  const credits = (await get(`/api/credits?${RANGE}`, h01)).json();
  assert.deepEqual(
    credits.map((c: { participants: string[]; creditsWh: number }) => [c.participants, c.creditsWh]),
    [[['h01'], 100]],
  );
  assert.equal((await get(`/api/credits?${RANGE}`, op)).json().length, 2);
  const detail = (await get('/api/intervals/2026-11-21T12:00:00Z', h01)).json();
  assert.deepEqual(
    detail.statements.map((s: { participant: string }) => s.participant),
    ['h01'],
  );
  assert.deepEqual(
    detail.trades.map((t: { seller: string }) => t.seller),
    ['h01'],
  );
  assert.deepEqual([...new Set(detail.energy.map((e: { participant: string }) => e.participant))], ['h01']);
  const state = (await get('/api/state', h01)).json();
  assert.deepEqual(Object.keys(state.state.meters).sort(), ['h01-grid', 'h01-pv']);
  const all = (await get('/api/state', op)).json();
  assert.equal(Object.keys(all.state.meters).length, 5);
});

test("a household asking for another household's data gets 403", async () => {
  for (const url of [
    '/api/participants/h02',
    `/api/trades?${RANGE}&participant=h02`,
    `/api/statements?${RANGE}&participant=h02`,
    `/api/credits?${RANGE}&participant=h02`,
    '/api/orders?participant=h02',
    `/api/energy?${RANGE}&participant=h02`,
    `/api/energy?${RANGE}&meter=h02-grid`,
    `/api/audit/intervals?${RANGE}`,
    '/api/audit/intervals/2026-11-21T12:00:00Z',
  ]) {
    const r = await get(url, h01);
    assert.equal(r.statusCode, 403, `${url}: ${r.body}`);
    assert.equal(r.json().code, 'FORBIDDEN');
  }
});

test('a household cannot place, cancel or reprice for another household', async () => {
  const order = { side: 'offer', interval: '2026-11-21T13:00:00Z', energyWh: 100, price: '0.1500' };
  const theirs = await f.app.inject({ method: 'POST', url: '/api/orders', headers: h02, payload: order });
  assert.equal(theirs.statusCode, 201);
  const id = theirs.json().id as string;
  const forOther = await f.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: h01,
    payload: { ...order, participant: 'h02' },
  });
  assert.equal(forOther.statusCode, 403);
  const cancel = await f.app.inject({ method: 'DELETE', url: `/api/orders/${id}`, headers: h01 });
  assert.equal(cancel.statusCode, 404, "another household's order does not exist for h01");
  assert.equal((await get('/api/orders', h02)).json()[0].status, 'open', 'the order is untouched');
  assert.deepEqual((await get('/api/orders', h01)).json(), []);
  const policy = await f.app.inject({
    method: 'PUT',
    url: '/api/participants/h02/policy',
    headers: h01,
    payload: { minSellPrice: '0.2900', maxBuyPrice: null },
  });
  assert.equal(policy.statusCode, 403);
  assert.equal((await get('/api/participants/h02', op)).json().minSellPrice, null, "h02's prices are untouched");
});

test('the auditor reads everything but writes nothing; audit endpoints are not for households', async () => {
  assert.equal((await get(`/api/audit/intervals?${RANGE}`, aud)).statusCode, 200);
  assert.equal((await get('/api/participants', aud)).json().length, 3);
  const post = await f.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: aud,
    payload: { participant: 'h01', side: 'bid', interval: '2026-11-21T13:00:00Z', energyWh: 1, price: '0.2000' },
  });
  assert.equal(post.statusCode, 403);
  const put = await f.app.inject({
    method: 'PUT',
    url: '/api/participants/h01/policy',
    headers: aud,
    payload: { minSellPrice: null, maxBuyPrice: null },
  });
  assert.equal(put.statusCode, 403);
});

test('writes are rate limited per token', async () => {
  const g = await makeFixture({ config: fixtureConfig({ server: { rateLimit: { writesPerMinute: 3 } } }) });
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) {
    codes.push(
      (
        await g.app.inject({
          method: 'PUT',
          url: '/api/participants/h01/policy',
          headers: h01,
          payload: { minSellPrice: '0.1000', maxBuyPrice: null },
        })
      ).statusCode,
    );
  }
  assert.deepEqual(codes, [200, 200, 200, 429, 429]);
  const limited = await g.app.inject({
    method: 'PUT',
    url: '/api/participants/h01/policy',
    headers: h01,
    payload: { minSellPrice: '0.1000', maxBuyPrice: null },
  });
  assert.equal(limited.json().code, 'RATE_LIMITED');
  // Another token has its own budget; reads are not limited.
  assert.equal(
    (
      await g.app.inject({
        method: 'PUT',
        url: '/api/participants/h02/policy',
        headers: h02,
        payload: { minSellPrice: '0.1000', maxBuyPrice: null },
      })
    ).statusCode,
    200,
  );
  assert.equal((await g.app.inject({ url: '/api/participants', headers: h01 })).statusCode, 200);
  await g.app.close();
});
