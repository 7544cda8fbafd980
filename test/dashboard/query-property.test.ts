import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeFixture, auth, TOKENS } from './fixture.js';
import { fcParams } from '../helpers/fc.js';

// Random query strings and path segments at every read route: a 2xx or a 4xx with a JSON error code, never a 5xx.

const f = await makeFixture();
after(() => f.app.close());

const READS = [
  '/api/health',
  '/api/me',
  '/api/state',
  '/api/participants',
  '/api/participants/{id}',
  '/api/meters',
  '/api/intervals',
  '/api/intervals/{start}',
  '/api/intervals/{start}/curves',
  '/api/orders',
  '/api/trades',
  '/api/statements',
  '/api/credits',
  '/api/settlement',
  '/api/energy',
  '/api/audit/intervals',
  '/api/audit/intervals/{start}',
];
const KEYS = [
  'from',
  'to',
  'format',
  'limit',
  'bucket',
  'meter',
  'participant',
  'interval',
  'status',
  'source',
  'since',
  'x',
];
const value = fc.oneof(
  fc.constantFrom(
    '2026-11-21T00:00:00Z',
    '2026-11-22T00:00:00Z',
    '2026-11-21T12:00:00Z',
    '1795305600',
    'csv',
    'json',
    'raw',
    '15m',
    '1h',
    '1d',
    'each',
    'h01',
    'h02',
    'h01-grid',
    'open',
    'forward',
    '0',
    '99999',
    '-1',
    '',
    '1e3',
    '0x',
    '2026-02-30T00:00:00Z',
  ),
  fc.string({ maxLength: 30 }),
);
const segment = fc.oneof(
  fc.constantFrom(
    '2026-11-21T12:00:00Z',
    '1795305600',
    'h01',
    'h02',
    '2026-11-21T12:07:00Z',
    '99999999999999999999',
    '%00',
    '..',
  ),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);
const token = fc.constantFrom(auth(TOKENS.h01), auth(TOKENS.operator), auth(TOKENS.auditor), {});

test('random queries at every read route never give a 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...READS),
      segment,
      fc.array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })), value), { maxLength: 4 }),
      token,
      async (route, seg, query, headers) => {
        const qs = query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const url = `${route.replace(/\{\w+\}/, seg)}${qs ? `?${qs}` : ''}`;
        const res = await f.app.inject({ url, headers });
        assert.ok(res.statusCode < 500, `GET ${url} → ${res.statusCode} ${res.body.slice(0, 300)}`);
        if (res.statusCode >= 400) assert.equal(typeof (res.json() as { code?: unknown }).code, 'string', res.body);
      },
    ),
    fcParams('dashboard read routes', { numRuns: 1500 }),
  );
});
