import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { demoConfig } from '../../core/config/demo.js';
import { validateConfig } from '../../core/config/validate.js';
import { TokenTable } from '../../dashboard/auth.js';
import { ensureDemoTokens, signInLink, wantsDemoTokens, withDemoTokens } from '../../app/demo-tokens.js';
import { tempDir } from '../helpers/tmp.js';

test('only a demo without tokens of its own gets demo tokens; a configured deployment keeps auth.tokens', () => {
  assert.equal(wantsDemoTokens(demoConfig(3)), true);
  const participants = [{ id: 'h01', name: 'H1' }];
  assert.equal(
    wantsDemoTokens(
      validateConfig({
        participants,
        demo: { enabled: true },
        auth: { tokens: [{ token: { env: 'MGX_OPERATOR_TOKEN' }, role: 'operator' }] },
      }),
    ),
    false,
  );
  assert.equal(wantsDemoTokens(validateConfig({ participants })), false, 'not a demo');
});

test('demo tokens: one file each, mode 0600 (tightened if loosened), the same on the next start, accepted by the token table for their roles', () => {
  const dir = tempDir();
  const config = demoConfig(3);
  const first = ensureDemoTokens(dir, config);
  assert.deepEqual(
    first.map((t) => [t.role, t.participant ?? null]),
    [
      ['operator', null],
      ['auditor', null],
      ['household', 'h01'],
    ],
  );
  for (const t of first) {
    assert.equal(statSync(t.file).mode & 0o777, 0o600);
    assert.match(t.token, /^[A-Za-z0-9_-]{32}$/);
  }
  chmodSync(first[0]!.file, 0o644);
  const again = ensureDemoTokens(dir, config);
  assert.deepEqual(
    again.map((t) => t.token),
    first.map((t) => t.token),
  );
  assert.equal(statSync(join(dir, 'tokens', 'operator.token')).mode & 0o777, 0o600);
  const table = new TokenTable(withDemoTokens(config, again), {});
  assert.deepEqual(
    again.map((t) => table.lookup(t.token)?.role),
    ['operator', 'auditor', 'household'],
  );
  assert.equal(table.lookup(again[0]!.token)?.participant, null);
  assert.equal(signInLink('http://127.0.0.1:8080', 'abc_-1'), 'http://127.0.0.1:8080/#token=abc_-1');
});
