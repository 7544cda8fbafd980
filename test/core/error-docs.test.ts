import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../../core/error-codes.js';
import { ALARM_CODES } from '../../core/alarm-codes.js';
import { MicrogridError } from '../../core/errors.js';
import { EXIT_CODES } from '../../app/exit-codes.js';

const root = new URL('../../', import.meta.url);
const doc = readFileSync(new URL('docs/errors.md', root), 'utf8');
const rowOf = (code: string, after = 0): string | undefined =>
  doc
    .slice(after)
    .split('\n')
    .find((l) => l.startsWith(`| \`${code}\` |`));

test('every error and alarm code has its anchor in docs/errors.md, and every anchor is a code', () => {
  const anchors = [...doc.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]!);
  assert.equal(new Set(anchors).size, anchors.length, 'an anchor appears twice');
  const codes = new Set([...Object.keys(ERROR_CODES), ...Object.keys(ALARM_CODES)]);
  assert.deepEqual([...anchors].sort(), [...codes].sort());
});

test('docs/errors.md gives each error its exit code and each alarm its severity, in the alarms table', () => {
  for (const [code, exit] of Object.entries(EXIT_CODES))
    assert.match(rowOf(code) ?? '', new RegExp(`^\\| \`${code}\` \\| \\d{3} \\| ${exit} \\|`), `exit code of ${code}`);
  const alarms = doc.indexOf('## Alarms');
  assert.ok(alarms > 0, 'docs/errors.md has an Alarms section');
  for (const [code, { severity }] of Object.entries(ALARM_CODES))
    assert.match(rowOf(code, alarms) ?? '', new RegExp(`^\\| \`${code}\` \\| ${severity} \\|`), `alarm row of ${code}`);
});

test('every alarm code the source raises is in ALARM_CODES', () => {
  // Where alarms are built as object literals (app/alarms.ts and the meter data alarms are typed by AlarmCode).
  const raised: string[] = [];
  for (const dir of ['app', 'dashboard', 'settlement', 'meter-bridge', 'ledger', 'audit']) {
    for (const f of readdirSync(new URL(dir, root), { recursive: true, encoding: 'utf8' })) {
      if (!f.endsWith('.ts')) continue;
      const text = readFileSync(new URL(join(dir, f), root), 'utf8');
      if (text.includes("type: 'alarm'"))
        raised.push(...[...text.matchAll(/code: '([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!));
    }
  }
  assert.ok(raised.includes('CLOCK_JUMP') && raised.includes('SETTLEMENT_FAILED'), `found ${raised.join(', ')}`);
  for (const code of raised) assert.ok(code in ALARM_CODES, `${code} is raised but not in core/alarm-codes.ts`);
});

test('an error carries a short message, its docs anchor and the details of its cause', () => {
  const refused = new Error('ECONNREFUSED 127.0.0.1:8545');
  const inner = new MicrogridError('CHAIN_UNAVAILABLE', 'the RPC does not answer', { cause: refused });
  const outer = new MicrogridError('CHAIN_REJECTED', 'commit of 2026-11-21T12:00:00Z failed', {
    field: 'interval',
    cause: inner,
  });
  assert.equal(outer.shortMessage, 'interval: commit of 2026-11-21T12:00:00Z failed');
  assert.equal(outer.message, outer.shortMessage);
  assert.equal(outer.docsPath, 'docs/errors.md#CHAIN_REJECTED');
  assert.equal(inner.details, 'ECONNREFUSED 127.0.0.1:8545');
  assert.equal(outer.details, 'ECONNREFUSED 127.0.0.1:8545', 'a MicrogridError cause passes its details on');
  assert.equal(
    String(outer),
    'MicrogridError: interval: commit of 2026-11-21T12:00:00Z failed\n\nDocs: docs/errors.md#CHAIN_REJECTED\nDetails: ECONNREFUSED 127.0.0.1:8545',
  );
  assert.equal(new MicrogridError('INTERNAL', 'x').details, undefined);
});

test('walk() follows the causes: the innermost without a test, the first match with one, null without a match', () => {
  const hangUp = new Error('socket hang up');
  const inner = new MicrogridError('CHAIN_UNAVAILABLE', 'no answer', { cause: hangUp });
  const outer = new MicrogridError('CHAIN_REJECTED', 'failed', { cause: inner });
  assert.equal(outer.walk(), hangUp);
  assert.equal(
    outer.walk((e) => e instanceof MicrogridError && e.code === 'CHAIN_UNAVAILABLE'),
    inner,
  );
  assert.equal(
    outer.walk((e) => e instanceof MicrogridError),
    outer,
  );
  assert.equal(
    outer.walk((e) => e instanceof TypeError),
    null,
  );
});
