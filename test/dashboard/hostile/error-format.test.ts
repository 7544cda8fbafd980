import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { makeFixture, auth, TOKENS, fixtureConfig, T0, MIN15 } from '../fixture.js';
import { listen } from '../../../dashboard/server.js';
import { ERROR_CODES } from '../../../core/error-codes.js';
import { HTTP_STATUS } from '../../../dashboard/http-status.js';

// Issue 13, items 4 and 8: every 4xx (fastify's own included) in the API's one error
// format with a stable code, never a 500, never echoing a secret.
const f = await makeFixture({
  config: fixtureConfig({ server: { rateLimit: { writesPerMinute: 100000, failedAuthPerMinute: 100000 } } }),
});
const base = await listen(f.app, '127.0.0.1', 0);
after(() => f.app.close());
const op = auth(TOKENS.operator);
const h01 = auth(TOKENS.h01);

/** The one error format: a known code, a message, nothing of fastify's own ({ error, statusCode }). */
function assertErrorBody(status: number, text: string, what: string): Record<string, unknown> {
  assert.ok(status >= 400 && status < 500, `${what}: ${status} ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.ok(typeof body.code === 'string' && body.code in ERROR_CODES, `${what}: code ${String(body.code)}`);
  assert.equal(typeof body.message, 'string', what);
  assert.equal(
    HTTP_STATUS[body.code as keyof typeof HTTP_STATUS],
    status,
    `${what}: ${String(body.code)} is documented as ${status}`,
  );
  for (const k of ['error', 'statusCode']) assert.ok(!(k in body), `${what}: fastify's ${k}`);
  return body;
}

const deep = '['.repeat(5000) + ']'.repeat(5000);
const deepObject = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);

test('deeply nested JSON is a 400 (or 401 without a token), never a 500, on every write', async () => {
  const writes = [
    ['POST', '/api/orders'],
    ['PUT', '/api/participants/h01/policy'],
    ['POST', '/api/readings'],
    ['POST', '/api/stream/ticket'],
  ] as const;
  for (const [method, url] of writes) {
    for (const payload of [deep, `{"readings":${deep}}`, deepObject, `{"readings":[{"meterId":${deepObject}}]}`]) {
      for (const headers of [{}, op, h01]) {
        const r = await f.app.inject({
          method,
          url,
          payload,
          headers: { ...headers, 'content-type': 'application/json' },
        });
        assertErrorBody(
          r.statusCode,
          r.body,
          `${method} ${url} ${payload.slice(0, 12)} ${Object.keys(headers).length ? 'token' : 'anonymous'}`,
        );
      }
    }
  }
});

test('nested objects where a reading belongs are refused in the API format, naming the field', async () => {
  const r = await f.app.inject({
    method: 'POST',
    url: '/api/readings',
    payload: { readings: [{ type: { a: { b: { c: 1 } } } }] },
  });
  const body = assertErrorBody(r.statusCode, r.body, 'nested reading');
  assert.equal(r.statusCode, 400);
  assert.match(String(body.field), /^body\.readings\[0\]/);
});

test('malformed JSON, prototype pollution, unknown media type, too large a body, unknown route: all in the one format', async () => {
  const cases: {
    what: string;
    method: 'POST' | 'PUT' | 'GET';
    url: string;
    payload?: string;
    type?: string;
    status: number;
  }[] = [
    { what: 'syntax', method: 'PUT', url: '/api/participants/h01/policy', payload: '{"minSellPrice":', status: 400 },
    {
      what: '__proto__',
      method: 'PUT',
      url: '/api/participants/h01/policy',
      payload: '{"minSellPrice":null,"maxBuyPrice":null,"__proto__":{"polluted":1}}',
      status: 400,
    },
    {
      what: 'constructor.prototype',
      method: 'PUT',
      url: '/api/participants/h01/policy',
      payload: '{"minSellPrice":null,"maxBuyPrice":null,"constructor":{"prototype":{"polluted":1}}}',
      status: 400,
    },
    {
      what: 'media type',
      method: 'PUT',
      url: '/api/participants/h01/policy',
      payload: 'x',
      type: 'application/xml',
      status: 415,
    },
    {
      what: 'body too large',
      method: 'PUT',
      url: '/api/participants/h01/policy',
      payload: JSON.stringify({ minSellPrice: 'x'.repeat(70_000), maxBuyPrice: null }),
      status: 413,
    },
    { what: 'empty body', method: 'PUT', url: '/api/participants/h01/policy', payload: '', status: 400 },
    { what: 'unknown route', method: 'GET', url: '/api/nowhere', status: 404 },
    { what: 'bad url', method: 'GET', url: '/api/intervals/%E0%A4%A', status: 400 },
    { what: 'long parameter', method: 'GET', url: `/api/intervals/${'9'.repeat(300)}`, status: 414 },
  ];
  for (const c of cases) {
    const r = await f.app.inject({
      method: c.method,
      url: c.url,
      headers: { ...op, 'content-type': c.type ?? 'application/json' },
      ...(c.payload === undefined ? {} : { payload: c.payload }),
    });
    assert.equal(r.statusCode, c.status, `${c.what}: ${r.body}`);
    assertErrorBody(r.statusCode, r.body, c.what);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
});

/** Sends raw bytes on a fresh connection and returns what the server answered before closing it. */
function raw(bytes: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString('utf8')));
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.end(bytes);
  });
}

test('what Node refuses before any route (431 headers, malformed HTTP, 414 long path) comes back in the one format over a real socket', async () => {
  const answers = [
    await raw(`GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    await raw(`GET /api/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
    await raw('GARBAGE\r\n\r\n'),
    await raw(`GET /api/intervals/${'9'.repeat(300)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
  ];
  const statuses = answers.map((a) => Number(/^HTTP\/1\.1 (\d{3})/.exec(a)?.[1]));
  assert.deepEqual(statuses, [431, 431, 400, 414]);
  for (const a of answers) {
    const body = a.slice(a.indexOf('\r\n\r\n') + 4);
    assertErrorBody(Number(/^HTTP\/1\.1 (\d{3})/.exec(a)?.[1]), body, a.slice(0, 40));
  }
});

test('a token in the query string is never echoed back, nor a value nested in the body', async () => {
  const secret = TOKENS.operator;
  for (const url of [
    `/api/orders?token=${secret}`,
    `/api/intervals?token=${secret}`,
    `/api/intervals?from=${secret}`,
    `/api/intervals/${T0 / 1000}/curves?source=${secret}`,
    `/api/energy?meter=${secret}&from=x`,
  ]) {
    for (const headers of [{}, h01]) {
      const r = await f.app.inject({ url, headers });
      assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${url}: ${r.statusCode}`);
      assertErrorBody(r.statusCode, r.body, url);
      assert.ok(!r.body.includes(secret), `${url} echoed the token: ${r.body}`);
    }
  }
  const r = await f.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: h01,
    payload: { side: 'bid', interval: new Date(T0 + 4 * MIN15).toISOString(), energyWh: 1, price: { token: secret } },
  });
  assertErrorBody(r.statusCode, r.body, 'object price');
  assert.ok(!r.body.includes(secret), r.body);
});
