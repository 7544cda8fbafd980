import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeFixture, auth, TOKENS, T0, MIN15, fixtureConfig, ENV } from './fixture.js';
import { buildDashboard } from '../../dashboard/app.js';
import { openLedger } from '../../ledger/ledger.js';
import { ManualClock } from '../../core/clock.js';
import { isMicrogridError } from '../../core/errors.js';

const f = await makeFixture();
after(() => f.app.close());
const op = auth(TOKENS.operator);
const h01 = auth(TOKENS.h01);

test('health, intervals with clearing figures, and one interval in detail', async () => {
  const health = (await f.app.inject({ url: '/api/health' })).json();
  assert.equal(health.currentInterval, '2026-11-21T12:15:00Z');
  assert.equal(health.currentIntervalState, 'open');
  const list = (await f.app.inject({ url: '/api/intervals' })).json();
  assert.deepEqual(
    list.map((r: { start: string; state: string; clearingPrice: string | null; matchedWh: number; trades: number }) => [
      r.start,
      r.state,
      r.clearingPrice,
      r.matchedWh,
      r.trades,
    ]),
    [
      ['2026-11-21T12:15:00Z', 'open', null, 0, 0],
      ['2026-11-21T12:00:00Z', 'committed', '0.1500', 500, 2],
    ],
  );
  const d = (await f.app.inject({ url: '/api/intervals/2026-11-21T12:00:00Z', headers: op })).json();
  assert.equal(d.state, 'committed');
  assert.deepEqual(
    d.transitions.map((t: { state: string }) => t.state),
    ['open', 'closed', 'cleared', 'delivered', 'metered', 'settled', 'committed'],
  );
  assert.equal(d.trades.length, 2);
  assert.equal(d.statements.length, 3);
  assert.deepEqual(
    d.settlement.map((j: { action: string; txHash: string }) => [j.action, j.txHash.slice(0, 4)]),
    [
      ['commit', '0xaa'],
      ['mint', '0xbb'],
    ],
  );
  // Unix seconds name the same interval.
  const byUnix = (await f.app.inject({ url: `/api/intervals/${T0 / 1000}`, headers: op })).json();
  assert.equal(byUnix.start, '2026-11-21T12:00:00Z');
});

test('an unaligned or unknown interval is a 4xx naming the field', async () => {
  const bad = await f.app.inject({ url: '/api/intervals/2026-11-21T12:07:00Z' });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().code, 'INVALID_TIME');
  assert.equal(bad.json().field, 'start');
  const missing = await f.app.inject({ url: '/api/intervals/2020-01-01T00:00:00Z' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().code, 'NOT_FOUND');
  const route = await f.app.inject({ url: '/api/nothing-here' });
  assert.equal(route.statusCode, 404);
  assert.equal(route.json().code, 'NOT_FOUND');
});

test('forward orders: placed, listed, cancelled; gate closure and price limits enforced by the injected clock', async () => {
  const future = '2026-11-21T13:00:00Z';
  const r = await f.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: h01,
    payload: { side: 'offer', interval: future, energyWh: 500, price: '0.12' },
  });
  assert.equal(r.statusCode, 201, r.body);
  const o = r.json();
  assert.equal(o.participant, 'h01');
  assert.equal(o.price, '0.1200', 'the price is normalised to the tick');
  assert.equal(o.zone, 'north');
  assert.equal(o.status, 'open');
  const r2 = (
    await f.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: op,
      payload: { participant: 'h02', side: 'bid', interval: Date.parse(future) / 1000, energyWh: 200, price: '0.2000' },
    })
  ).json();
  assert.equal(r2.seq, o.seq + 1, 'seq comes from a counter');

  const mine = (await f.app.inject({ url: '/api/orders', headers: h01 })).json();
  assert.deepEqual(
    mine.map((x: { id: string }) => x.id),
    [o.id],
  );

  const cancelled = await f.app.inject({ method: 'DELETE', url: `/api/orders/${o.id}`, headers: h01 });
  assert.equal(cancelled.statusCode, 200);
  assert.equal(cancelled.json().status, 'cancelled');
  const again = await f.app.inject({ method: 'DELETE', url: `/api/orders/${o.id}`, headers: h01 });
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().code, 'ORDER_GATE_CLOSED');

  // Gate closure: interval 12:30 closes at 12:25; the clock is at 12:16 → accepted, then at 12:25 → refused.
  const near = { side: 'bid', interval: '2026-11-21T12:30:00Z', energyWh: 100, price: '0.2000' };
  assert.equal(
    (await f.app.inject({ method: 'POST', url: '/api/orders', headers: h01, payload: near })).statusCode,
    201,
  );
  await f.clock.advanceTo(Date.parse('2026-11-21T12:25:00Z'));
  const late = await f.app.inject({ method: 'POST', url: '/api/orders', headers: h01, payload: near });
  assert.equal(late.statusCode, 409);
  assert.equal(late.json().code, 'ORDER_GATE_CLOSED');
  assert.equal(late.json().field, 'interval');

  const cases: [Record<string, unknown>, string, string][] = [
    [{ ...near, interval: '2026-11-21T13:00:00Z', price: '0.3500' }, 'INVALID_PRICE', 'price'],
    [{ ...near, interval: '2026-11-21T13:00:00Z', price: '0.12345' }, 'INVALID_PRICE', 'price'],
    [{ ...near, interval: '2026-11-21T13:00:00Z', energyWh: -5 }, 'INVALID_ENERGY', 'energyWh'],
    [{ ...near, interval: '2026-11-21T13:07:00Z' }, 'INVALID_TIME', 'interval'],
    [{ ...near, interval: '2026-12-21T13:00:00Z' }, 'INVALID_TIME', 'interval'],
    [{ ...near, interval: '2026-11-21T13:00:00Z', partners: ['ok', 'no spaces'] }, 'INVALID_ID', 'partners[1]'],
    [{ ...near, interval: '2026-11-21T13:00:00Z', energyWh: '100' }, 'INVALID_INPUT', 'body.energyWh'],
    [{ ...near, interval: '2026-11-21T13:00:00Z', price: 0.2 }, 'INVALID_INPUT', 'body.price'],
    [{ ...near, interval: '2026-11-21T13:00:00Z', side: 'buy' }, 'INVALID_INPUT', 'body.side'],
    [{ ...near, interval: '2026-11-21T13:00:00Z', extra: 1 }, 'INVALID_INPUT', 'body.extra'],
    [{ side: 'bid', energyWh: 1, price: '0.2000' }, 'INVALID_INPUT', 'body.interval'],
  ];
  for (const [payload, code, field] of cases) {
    const res = await f.app.inject({ method: 'POST', url: '/api/orders', headers: h01, payload });
    assert.equal(res.statusCode, 400, `${JSON.stringify(payload)} → ${res.body}`);
    assert.equal(res.json().code, code, res.body);
    assert.equal(res.json().field, field, res.body);
  }
  const opNoParticipant = await f.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: op,
    payload: { ...near, interval: '2026-11-21T13:00:00Z' },
  });
  assert.equal(opNoParticipant.statusCode, 400);
  assert.equal(opNoParticipant.json().field, 'participant');
  const malformed = await f.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: { ...h01, 'content-type': 'application/json' },
    payload: '{"side":',
  });
  assert.equal(malformed.statusCode, 400);
  const big = await f.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: { ...h01, 'content-type': 'application/json' },
    payload: JSON.stringify({ pad: 'x'.repeat(70_000) }),
  });
  assert.equal(big.statusCode, 413);
  assert.equal(big.json().code, 'BODY_TOO_LARGE');
});

test('standing prices: a household edits its own, within floor and cap', async () => {
  const r = await f.app.inject({
    method: 'PUT',
    url: '/api/participants/h01/policy',
    headers: h01,
    payload: { minSellPrice: '0.1100', maxBuyPrice: null },
  });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.json().minSellPrice, '0.1100');
  assert.equal(r.json().maxBuyPrice, null);
  const low = await f.app.inject({
    method: 'PUT',
    url: '/api/participants/h01/policy',
    headers: h01,
    payload: { minSellPrice: '0.0100', maxBuyPrice: null },
  });
  assert.equal(low.statusCode, 400);
  assert.equal(low.json().field, 'minSellPrice');
});

test('lists as CSV: header row, UTC interval starts, same rows as JSON', async () => {
  const json = (await f.app.inject({ url: '/api/trades?from=2026-11-21T00:00:00Z', headers: op })).json();
  const csv = await f.app.inject({ url: '/api/trades?from=2026-11-21T00:00:00Z&format=csv', headers: op });
  assert.match(csv.headers['content-type'] as string, /^text\/csv/);
  const lines = csv.body.trim().split('\r\n');
  assert.equal(lines[0], 'interval,kind,seq,buyer,seller,energyWh,price,fee,buyOrder,sellOrder');
  assert.equal(lines.length, json.length + 1);
  assert.equal(lines[1], '2026-11-21T12:00:00Z,metered,0,h03,h01,300,0.1500,0.0000,b0,s0');
  for (const url of [
    '/api/intervals',
    '/api/statements',
    '/api/credits',
    '/api/settlement',
    '/api/orders',
    '/api/energy?bucket=1h',
    '/api/audit/intervals',
    '/api/participants',
    '/api/meters',
  ]) {
    const sep = url.includes('?') ? '&' : '?';
    const res = await f.app.inject({
      url: `${url}${sep}format=csv&from=2026-11-21T00:00:00Z`
        .replace('/api/participants?format=csv&from=2026-11-21T00:00:00Z', '/api/participants?format=csv')
        .replace('/api/meters?format=csv&from=2026-11-21T00:00:00Z', '/api/meters?format=csv'),
      headers: op,
    });
    assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
    assert.match(res.headers['content-type'] as string, /^text\/csv/, url);
  }
});

test('energy history in buckets: raw, hour, day; consumption = import − export + pv', async () => {
  const raw = (
    await f.app.inject({ url: '/api/energy?from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z&bucket=raw', headers: op })
  ).json();
  assert.deepEqual(raw, [
    {
      start: '2026-11-21T12:00:00Z',
      meter: null,
      generationWh: 1400,
      consumptionWh: 1500,
      gridImportWh: 700,
      gridExportWh: 600,
      netGridWh: 100,
      flagged: 0,
    },
  ]);
  const day = (
    await f.app.inject({ url: '/api/energy?from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z&bucket=1d', headers: h01 })
  ).json();
  assert.deepEqual(day, [
    {
      start: '2026-11-21T00:00:00Z',
      meter: null,
      generationWh: 900,
      consumptionWh: 500,
      gridImportWh: 0,
      gridExportWh: 400,
      netGridWh: -400,
      flagged: 0,
    },
  ]);
  const each = (
    await f.app.inject({ url: '/api/energy?from=2026-11-21T00:00:00Z&bucket=1h&meter=each', headers: op })
  ).json();
  assert.equal(each.length, 5);
  const bad = await f.app.inject({ url: '/api/energy?bucket=5m', headers: op });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().field, 'querystring.bucket');
  const backwards = await f.app.inject({ url: '/api/energy?from=2026-11-22T00:00:00Z&to=2026-11-21T00:00:00Z' });
  assert.equal(backwards.statusCode, 400);
  assert.equal(backwards.json().field, 'to');
});

test('audit: totals, commitment and verification per interval, and the drill-down', async () => {
  const rows = (
    await f.app.inject({ url: '/api/audit/intervals?from=2026-11-21T00:00:00Z', headers: auth(TOKENS.auditor) })
  ).json();
  const r = rows.find((x: { start: string }) => x.start === '2026-11-21T12:00:00Z');
  assert.equal(r.meteredExportWh, 600);
  assert.equal(r.tradesWh, 500);
  assert.equal(r.creditsWh, 600, 'credits 100 (h01) + 500 (h03) = metered export 600');
  assert.equal(r.tradesRoot, '0x' + '1'.repeat(64));
  assert.equal(r.verification, 'verified');
  assert.equal(r.commitTx, '0x' + 'a'.repeat(64));
  const d = (
    await f.app.inject({ url: '/api/audit/intervals/2026-11-21T12:00:00Z', headers: auth(TOKENS.auditor) })
  ).json();
  assert.equal(d.trades.length, 2);
  assert.equal(d.energy.length, 5);
  assert.equal(d.readings.length, 1);
  assert.equal(d.clearingResults[0].clearingPrice, '0.1500');
  // A broken identity shows as a mismatch, not a pass.
  f.ledger.db.prepare("UPDATE interval_energy SET export_wh = 401 WHERE meter_id = 'h01-grid'").run();
  const after = (
    await f.app.inject({ url: '/api/audit/intervals?from=2026-11-21T00:00:00Z', headers: auth(TOKENS.auditor) })
  ).json();
  const broken = after.find((x: { start: string }) => x.start === '2026-11-21T12:00:00Z');
  assert.equal(broken.verification, 'mismatch');
  assert.equal(broken.checks.find((c: { name: string }) => c.name === 'credits equal metered export').ok, false);
  f.ledger.db.prepare("UPDATE interval_energy SET export_wh = 400 WHERE meter_id = 'h01-grid'").run();
});

test('supply and demand curves with the clearing point', async () => {
  const c = (
    await f.app.inject({ url: '/api/intervals/2026-11-21T13:00:00Z/curves', headers: auth(TOKENS.operator) })
  ).json();
  assert.deepEqual(c.bids, [{ price: '0.2000', cumulativeWh: 200 }]);
  // Before gate closure the public sees no book (one order would be one household's: issue 13).
  assert.deepEqual((await f.app.inject({ url: '/api/intervals/2026-11-21T13:00:00Z/curves' })).json().bids, []);
  assert.deepEqual(c.offers, [], 'the cancelled offer is not in the book');
});

test('OpenAPI at /api/docs, swagger-ui served from node_modules (no CDN)', async () => {
  const spec = (await f.app.inject({ url: '/api/docs/json' })).json();
  for (const p of ['/api/orders', '/api/intervals/{start}', '/api/state', '/api/energy', '/api/audit/intervals'])
    assert.ok(spec.paths[p], `spec lists ${p}`);
  const html = await f.app.inject({ url: '/api/docs' });
  assert.equal(html.statusCode, 200);
  assert.doesNotMatch(html.body, /https?:\/\//, 'every asset is served by this server');
  assert.match(html.body, /\/api\/docs\/static\/swagger-ui-bundle.js/);
  const js = await f.app.inject({ url: '/api/docs/static/swagger-ui-bundle.js' });
  assert.equal(js.statusCode, 200);
});

test('CORS is closed by default and open only to listed origins', async () => {
  const closed = await f.app.inject({ url: '/api/health', headers: { origin: 'https://evil.example' } });
  assert.equal(closed.headers['access-control-allow-origin'], undefined);
  const cfg = fixtureConfig({ server: { corsOrigins: ['https://ops.example.org'] } });
  const ledger = openLedger(':memory:');
  const app = buildDashboard({
    ledger,
    config: cfg,
    clock: new ManualClock(T0),
    version: 't',
    env: { T_OPERATOR: TOKENS.operator, T_AUDITOR: TOKENS.auditor, T_H01: TOKENS.h01, T_H02: TOKENS.h02 },
    buildBundle: false,
  });
  const pre = await app.inject({
    method: 'OPTIONS',
    url: '/api/orders',
    headers: { origin: 'https://ops.example.org', 'access-control-request-method': 'POST' },
  });
  assert.equal(pre.statusCode, 204);
  assert.equal(pre.headers['access-control-allow-origin'], 'https://ops.example.org');
  await app.close();
  ledger.close();
  void MIN15;
});

test('a token secret that is missing or a household token naming nobody stops the build', () => {
  const ledger = openLedger(':memory:');
  assert.throws(
    () =>
      buildDashboard({
        ledger,
        config: fixtureConfig(),
        clock: new ManualClock(T0),
        version: 't',
        env: {},
        buildBundle: false,
      }),
    (e) => isMicrogridError(e, 'SECRET_MISSING'),
  );
  const cfg = fixtureConfig();
  cfg.auth.tokens.push({ token: { env: 'T_OPERATOR' }, role: 'household', participant: 'nobody' });
  assert.throws(
    () =>
      buildDashboard({ ledger, config: cfg, clock: new ManualClock(T0), version: 't', env: ENV, buildBundle: false }),
    (e) => isMicrogridError(e, 'CONFIG_INVALID') && e.field === 'auth.tokens[4].participant',
  );
  ledger.close();
});
