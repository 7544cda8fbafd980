import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MicrogridError, invalid } from '../../core/errors.js';
import { HTTP_STATUS, httpStatus } from '../../dashboard/http-status.js';

test('every error code is documented in docs/errors.md with its HTTP status', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, status] of Object.entries(HTTP_STATUS)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    assert.ok(row, `docs/errors.md has no row for ${code}`);
    assert.match(row, new RegExp(`\\| ${status} \\|`), `docs/errors.md gives the wrong status for ${code}`);
  }
});

test('an error names the field, the value and what was expected', () => {
  const e = invalid('INVALID_ENERGY', 'orders[2].energyWh', -5, 'a positive integer number of Wh');
  assert.equal(e.code, 'INVALID_ENERGY');
  assert.equal(httpStatus(e.code), 400);
  assert.equal(e.message, 'orders[2].energyWh: invalid value; got -5; expected a positive integer number of Wh');
  assert.deepEqual(e.toJSON(), {
    code: 'INVALID_ENERGY',
    message: e.message,
    field: 'orders[2].energyWh',
    value: -5,
    expected: 'a positive integer number of Wh',
  });
});

test('the cause is kept', () => {
  const cause = new Error('disk full');
  const e = new MicrogridError('LEDGER_OPEN', 'cannot open', { cause });
  assert.equal(e.cause, cause);
  assert.equal(httpStatus(e.code), 500);
});
