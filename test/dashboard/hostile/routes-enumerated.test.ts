import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeFixture, auth, TOKENS, fixtureConfig, T0, MIN15 } from '../fixture.js';
import { listOrders, getPolicy } from './ledger-view.js';

// Issue 13, item 7 and the cross-household class: every operation of the OpenAPI
// document (so a route added later is covered the day it is added).
const f = await makeFixture({
  config: fixtureConfig({ server: { rateLimit: { writesPerMinute: 100000, failedAuthPerMinute: 100000 } } }),
});
after(() => f.app.close());

interface Operation {
  method: string;
  path: string;
  security?: Record<string, unknown>[];
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
}

const doc = f.app.swagger() as {
  paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>>;
  security?: unknown[];
};
const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops)
    .filter(([m]) => ['get', 'post', 'put', 'delete', 'patch'].includes(m))
    .map(([m, o]) => ({ ...o, method: m.toUpperCase(), path })),
);
const anonymousAllowed = (o: Operation): boolean =>
  o.security !== undefined && (o.security.length === 0 || o.security.some((s) => Object.keys(s).length === 0));

test('the OpenAPI document lists the API (a sanity floor, so the loops below are not empty)', () => {
  assert.ok(operations.length >= 20, `${operations.length} operations`);
  assert.ok(operations.some((o) => o.method === 'POST' && o.path === '/api/orders'));
});

test('authentication before validation: an anonymous call to a route that needs a token is 401 whatever it sends', async () => {
  const needing = operations.filter((o) => !anonymousAllowed(o));
  assert.ok(needing.length >= 12, `${needing.length} token routes`);
  for (const o of needing) {
    const url = o.path.replace(/\{[^}]+\}/g, 'bad%20id~') + '?unknown=1&limit=x';
    for (const payload of [undefined, '{}', '[', '['.repeat(5000) + ']'.repeat(5000)]) {
      const r = await f.app.inject({
        method: o.method as 'GET',
        url,
        ...(payload === undefined ? {} : { payload, headers: { 'content-type': 'application/json' } }),
      });
      assert.equal(r.statusCode, 401, `${o.method} ${o.path} ${payload?.slice(0, 5) ?? ''}: ${r.body.slice(0, 200)}`);
      assert.equal(r.json().code, 'UNAUTHORIZED');
    }
  }
});

test('a role that may not use a route is refused before validation too (403, not 400)', async () => {
  for (const [token, path, method] of [
    [TOKENS.h01, '/api/audit/intervals', 'GET'],
    [TOKENS.auditor, '/api/orders', 'POST'],
    [TOKENS.auditor, '/api/participants/{id}/policy', 'PUT'],
  ] as const) {
    assert.ok(
      operations.some((o) => o.path === path && o.method === method),
      path,
    );
    const r = await f.app.inject({
      method,
      url: path.replace('{id}', 'h01') + '?bogus=1',
      headers: { ...auth(token), 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.equal(r.statusCode, 403, `${method} ${path}: ${r.body}`);
  }
});

/** The request an attacker would make for h01's data on this operation: h01 in every id, participant and meter slot. */
function aimAtH01(o: Operation, orderId: string): { url: string; payload?: Record<string, unknown> } {
  const url = o.path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
    name === 'start' ? new Date(T0).toISOString() : o.path.startsWith('/api/orders') ? orderId : 'h01',
  );
  const q = new URLSearchParams();
  for (const p of o.parameters ?? []) {
    if (p.in !== 'query') continue;
    if (p.name === 'participant') q.set('participant', 'h01');
    if (p.name === 'meter') q.set('meter', 'h01-grid');
    if (p.name === 'from') q.set('from', '2026-11-21T00:00:00Z');
    if (p.name === 'to') q.set('to', '2026-11-22T00:00:00Z');
  }
  const qs = q.toString();
  const body =
    o.requestBody === undefined
      ? undefined
      : {
          participant: 'h01',
          side: 'offer',
          interval: new Date(T0 + 8 * MIN15).toISOString(),
          energyWh: 100,
          price: '0.1200',
          minSellPrice: '0.2900',
          maxBuyPrice: null,
        };
  return { url: qs ? `${url}?${qs}` : url, ...(body ? { payload: body } : {}) };
}

test('a hostile household (h02) or the public aimed at h01 on every route: no h01 data in any answer, nothing of h01 changed', async () => {
  const placed = await f.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: auth(TOKENS.h01),
    payload: { side: 'bid', interval: new Date(T0 + 8 * MIN15).toISOString(), energyWh: 50, price: '0.2000' },
  });
  assert.equal(placed.statusCode, 201, placed.body);
  const orderId = placed.json().id as string;
  const before = { orders: listOrders(f.ledger, 'h01'), policy: getPolicy(f.ledger, 'h01') };
  for (const who of [auth(TOKENS.h02), {}]) {
    for (const o of operations) {
      if (o.path === '/api/readings') continue; // no participant behind it: signed by gateways (readings-replay.test.ts)
      const { url, payload } = aimAtH01(o, orderId);
      const r = await f.app.inject({ method: o.method as 'GET', url, headers: who, ...(payload ? { payload } : {}) });
      const label = `${Object.keys(who).length ? 'h02' : 'public'} ${o.method} ${url}`;
      assert.notEqual(r.statusCode, 500, label);
      if (r.statusCode < 300)
        assert.ok(!/h01/.test(r.body), `${label} answered ${r.statusCode} with h01 data: ${r.body.slice(0, 300)}`);
      else assert.ok([400, 401, 403, 404, 409].includes(r.statusCode), `${label}: ${r.statusCode} ${r.body}`);
    }
  }
  assert.deepEqual(
    { orders: listOrders(f.ledger, 'h01'), policy: getPolicy(f.ledger, 'h01') },
    before,
    'h01 unchanged',
  );
});
