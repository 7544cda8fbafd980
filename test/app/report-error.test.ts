import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { reportError } from '../../app/main.js';
import { EXIT_CODES } from '../../app/exit-codes.js';
import { MicrogridError } from '../../core/errors.js';

function report(err: unknown, env: NodeJS.ProcessEnv = {}): { code: number; text: string } {
  const out = new PassThrough();
  const code = reportError(err, out, env);
  return { code, text: String(out.read() ?? '') };
}

test('the CLI exit code comes from app/exit-codes.ts: 2 for input the user can fix, 1 for failures and unexpected errors', () => {
  assert.equal(report(new MicrogridError('CONFIG_INVALID', 'x')).code, 2);
  assert.equal(report(new MicrogridError('PORT_IN_USE', 'x')).code, 1);
  assert.equal(report(new Error('boom')).code, 1);
  assert.ok(Object.values(EXIT_CODES).every((c) => c === 1 || c === 2));
});

test('an error is one line; with MGX_DEBUG the full text follows: its docs anchor and its cause', () => {
  const e = new MicrogridError('LEDGER_OPEN', 'cannot open data/ledger.sqlite', {
    cause: new Error('SQLITE_CANTOPEN'),
  });
  assert.equal(report(e).text, 'mgx: cannot open data/ledger.sqlite [LEDGER_OPEN]\n');
  const debug = report(e, { MGX_DEBUG: '1' }).text;
  assert.match(debug, /^mgx: cannot open data\/ledger\.sqlite \[LEDGER_OPEN\]\n/);
  assert.match(debug, /^Docs: docs\/errors\.md#LEDGER_OPEN$/m);
  assert.match(debug, /^Details: SQLITE_CANTOPEN$/m);
});
