import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMgx } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();
function withConfig(yaml: string): string {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

function assertOneParagraph(stderr: string): void {
  assert.equal(stderr.trim().split('\n').length, 1, `one paragraph, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /\bat .*\.(ts|js):\d+/, 'no stack trace');
}

test('mgx --help lists the commands and the global options', () => {
  const r = runMgx(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: mgx COMMAND/);
  assert.match(r.stdout, /start +run the microgrid/);
  assert.match(r.stdout, /--data-dir DIR/);
});

for (const [name, yaml, key] of [
  ['an unknown key', 'market:\n  intervalMinute: 15\n', 'market.intervalMinute'],
  ['a negative interval', 'market:\n  intervalMinutes: -15\n', 'market.intervalMinutes'],
  ['a price that is not a decimal', 'market:\n  retailTariff: lots\n', 'market.retailTariff'],
] as const) {
  test(`a config with ${name} stops mgx start with a message naming ${key}`, () => {
    const r = runMgx(['start', '--config', withConfig(yaml), '--data-dir', join(dir, 'data'), '--port', '0']);
    assert.equal(r.status, 2);
    assertOneParagraph(r.stderr);
    assert.ok(r.stderr.includes(key), r.stderr);
    assert.match(r.stderr, /\[CONFIG_INVALID\]$/m);
  });
}

test('MGX_CONFIG names the file when --config is absent', () => {
  const r = runMgx(['start', '--port', '0', '--data-dir', join(dir, 'data')], {
    env: { MGX_CONFIG: withConfig('market:\n  k: 7\n') },
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /market\.k \(line 2\) = 7: expected a number ≤ 1/);
});

test('a missing config file and a missing secret are each one clear line', () => {
  let r = runMgx(['start', '--config', join(dir, 'nope.yaml')]);
  assert.equal(r.status, 2);
  assertOneParagraph(r.stderr);
  assert.match(
    r.stderr,
    /--config: no configuration file at .*nope\.yaml; got "[^"]*nope\.yaml"; expected the path of a microgrid\.yaml file/,
  );
  r = runMgx([
    'start',
    '--config',
    withConfig('chain:\n  privateKey: { env: MGX_TEST_NO_SUCH_KEY }\n'),
    '--port',
    '0',
    '--data-dir',
    join(dir, 'data'),
  ]);
  assert.equal(r.status, 2);
  assertOneParagraph(r.stderr);
  assert.match(r.stderr, /chain\.privateKey: environment variable MGX_TEST_NO_SUCH_KEY is not set.*\[SECRET_MISSING\]/);
});

test('bad arguments are usage errors with exit code 2', () => {
  let r = runMgx(['start', '--port', 'eighty']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--port: invalid value; got "eighty"; expected a number from 0 to 65535 \[USAGE\]/);
  r = runMgx(['start', '--frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown option '--frobnicate'.*mgx start --help/);
  r = runMgx(['launch']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "launch"/);
});
