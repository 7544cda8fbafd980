import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeFixture, auth, TOKENS, fixtureConfig } from './fixture.js';
import { fcParams } from '../helpers/fc.js';

// Random bodies, headers and ids at every write route: the answer is always a 2xx or a 4xx with a JSON error code,
// never a 5xx.

const f = await makeFixture({
  config: fixtureConfig({ server: { rateLimit: { writesPerMinute: 100000, failedAuthPerMinute: 100000 } } }),
});
after(() => f.app.close());

const WRITES = [
  { method: 'POST', name: '/api/orders', url: () => fc.constant('/api/orders') },
  {
    method: 'DELETE',
    name: '/api/orders/:id',
    url: () =>
      fc.oneof(fc.string(), fc.constant('ord-1'), fc.webSegment()).map((id) => `/api/orders/${encodeURIComponent(id)}`),
  },
  {
    method: 'PUT',
    name: '/api/participants/:id/policy',
    url: () =>
      fc
        .oneof(
          { arbitrary: fc.constantFrom('h01', 'h02', 'h03', 'nobody'), weight: 4 },
          { arbitrary: fc.webSegment(), weight: 1 },
        )
        .map((id) => `/api/participants/${encodeURIComponent(id)}/policy`),
  },
  { method: 'POST', name: '/api/stream/ticket', url: () => fc.constant('/api/stream/ticket') },
  // Registered in the same app by the meter bridge (dashboard/routes/readings.ts): it must hold the same line.
  { method: 'POST', name: '/api/readings', url: () => fc.constant('/api/readings') },
] as const;

const price = fc.oneof(
  fc.constantFrom('0.1200', '0.12', '0.0800', '0.3000', '1e-1', '-0.1', '0.12345', ' 0.1', ''),
  fc.double(),
  fc.string(),
  fc.constant(null),
);
const orderish = fc.record(
  {
    participant: fc.oneof(fc.constantFrom('h01', 'h02', 'nobody'), fc.string(), fc.integer()),
    side: fc.oneof(fc.constantFrom('bid', 'offer'), fc.string(), fc.boolean()),
    interval: fc.oneof(
      fc.constantFrom(
        '2026-11-21T13:00:00Z',
        '2026-11-21T12:00:00Z',
        '2026-02-30T13:00:00Z',
        '2026-11-21T13:00:00+01:00',
      ),
      fc.integer(),
      fc.string(),
      fc.double(),
    ),
    energyWh: fc.oneof(
      fc.integer(),
      fc.double(),
      fc.string(),
      fc.constant(Number.MAX_SAFE_INTEGER + 2),
      fc.constant(0),
    ),
    price,
    partners: fc.oneof(fc.array(fc.string(), { maxLength: 40 }), fc.string(), fc.constant(null)),
    greenOnly: fc.oneof(fc.boolean(), fc.string()),
    minSellPrice: price,
    maxBuyPrice: price,
  },
  { requiredKeys: [] },
);
const hex = (n: number) => fc.stringMatching(new RegExp(`^0x[0-9a-f]{${n}}$`));
const readingish = fc.record(
  {
    type: fc.oneof(fc.constant('reading'), fc.string()),
    meterId: fc.oneof(fc.constantFrom('h01-grid', 'h02-pv', 'nope'), fc.string()),
    ts: fc.oneof(fc.constantFrom('2026-11-21T12:00:00.000Z', '2026-13-01T00:00:00Z'), fc.string(), fc.integer()),
    powerW: fc.oneof(fc.integer(), fc.double(), fc.constant(null)),
    importWh: fc.oneof(fc.nat(), fc.integer(), fc.constant(null)),
    exportWh: fc.oneof(fc.nat(), fc.constant(null)),
    voltageV: fc.oneof(fc.double(), fc.constant(null)),
    frequencyHz: fc.oneof(fc.double(), fc.constant(null)),
    quality: fc.oneof(fc.constantFrom('good', 'suspect', 'missing'), fc.string()),
    gateway: fc.oneof(hex(40), fc.string()),
    signature: fc.oneof(hex(130), fc.string()),
  },
  { requiredKeys: [] },
);
// A valid order or price policy with up to two fields replaced by anything: reaches the deep checks (gate, floor, cap,
// tick) and the success path.
const nearValid = (valid: Record<string, unknown>) =>
  fc
    .array(
      fc.tuple(fc.constantFrom(...Object.keys(valid), 'participant', 'partners', 'greenOnly', 'extra'), fc.jsonValue()),
      { maxLength: 2 },
    )
    .map((muts) => {
      const o: Record<string, unknown> = { ...valid };
      for (const [k, v] of muts) o[k] = v;
      return { payload: JSON.stringify(o), type: 'application/json' };
    });
const nearValidOrder = nearValid({ side: 'offer', interval: '2026-11-21T13:00:00Z', energyWh: 250, price: '0.1500' });
const nearValidPolicy = nearValid({ minSellPrice: '0.1200', maxBuyPrice: null });
const RANDOM_BODIES = [
  fc
    .array(readingish, { maxLength: 3 })
    .map((readings) => ({ payload: JSON.stringify({ readings }), type: 'application/json' })),
  orderish.map((o) => ({ payload: JSON.stringify(o), type: 'application/json' })),
  fc.jsonValue().map((v) => ({ payload: JSON.stringify(v), type: 'application/json' })),
  fc.string().map((s) => ({ payload: s, type: 'application/json' })),
  fc.string().map((s) => ({
    payload: s,
    type: fc.sample(
      fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
        'application/json; charset=latin1',
        '',
      ),
      1,
    )[0]!,
  })),
  fc
    .uint8Array({ maxLength: 300 })
    .map((b) => ({ payload: Buffer.from(b).toString('latin1'), type: 'application/octet-stream' })),
];
// Each route gets mostly bodies that are nearly right for it (half of them), and the rest anything.
const bodyFor = (name: string) =>
  fc.oneof(
    { arbitrary: name === '/api/orders' ? nearValidOrder : nearValidPolicy, weight: 6 },
    ...RANDOM_BODIES.map((arbitrary) => ({ arbitrary, weight: 1 })),
  );
const token = fc.constantFrom(
  auth(TOKENS.h01),
  auth(TOKENS.h02),
  auth(TOKENS.operator),
  auth(TOKENS.auditor),
  {},
  { authorization: 'Bearer nope-nope-nope-nope' },
);

for (const w of WRITES) {
  const statuses = new Set<number>();
  test(`${w.method} ${w.name}: random bodies, content types and tokens never give a 5xx`, async () => {
    await fc.assert(
      fc.asyncProperty(w.url(), bodyFor(w.name), token, async (url, b, headers) => {
        const res = await f.app.inject({
          method: w.method,
          url,
          payload: b.payload,
          headers: { ...headers, ...(b.type ? { 'content-type': b.type } : {}) },
        });
        statuses.add(res.statusCode);
        assert.ok(
          res.statusCode < 500,
          `${w.method} ${url} ${b.type} ${b.payload.slice(0, 200)} → ${res.statusCode} ${res.body}`,
        );
        if (res.statusCode >= 400) {
          const e = res.json() as { code?: unknown; message?: unknown };
          assert.equal(typeof e.code, 'string', res.body);
          assert.equal(typeof e.message, 'string', res.body);
        }
      }),
      fcParams(`dashboard ${w.method} write route`, { numRuns: 300 }),
    );
    if (w.name === '/api/orders' || w.name === '/api/participants/:id/policy')
      assert.ok(
        [...statuses].some((s) => s < 300),
        `some random bodies were accepted (${[...statuses].join(', ')}): the success path is exercised too`,
      );
  });
}
