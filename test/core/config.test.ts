import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, validateConfig } from '../../core/config/validate.js';
import { demoConfig } from '../../core/config/demo.js';
import { MicrogridError } from '../../core/errors.js';

function configError(yaml: string): MicrogridError {
  try {
    parseConfigText(yaml, 'microgrid.yaml');
  } catch (e) {
    assert.ok(e instanceof MicrogridError, `expected a MicrogridError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the config to be refused');
}

test('an empty file gives the documented defaults', () => {
  const c = parseConfigText('', 'microgrid.yaml');
  assert.equal(c.market.intervalMinutes, 15);
  assert.equal(c.market.priceTick, '0.0001');
  assert.equal(c.market.mechanism, 'uniform');
  assert.equal(c.market.k, 0.5);
  assert.equal(c.server.port, 8080);
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.clock.speed, 1);
});

test('an unknown key is refused, naming the key path, its line and the keys allowed there', () => {
  const e = configError('market:\n  intervalMinutes: 15\n  gateClosure: 300\n');
  assert.equal(e.code, 'CONFIG_INVALID');
  assert.equal(e.field, 'market.gateClosure');
  assert.match(
    e.message,
    /market\.gateClosure \(line 3\) = 300: is not a known setting; allowed here: intervalMinutes, priceTick/,
  );
  assert.doesNotMatch(e.message, /\n/, 'one paragraph');
});

test('a negative interval is refused with the allowed values', () => {
  const e = configError('market:\n  intervalMinutes: -15\n');
  assert.equal(e.field, 'market.intervalMinutes');
  assert.match(e.message, /market\.intervalMinutes \(line 2\) = -15: expected one of 1, 5, 15, 30, 60\./);
});

test('a price that is not a decimal string is refused', () => {
  for (const [yaml, value] of [
    ['market:\n  feedInTariff: cheap\n', '"cheap"'],
    ['market:\n  feedInTariff: 0.08\n', '0.08'],
    ['market:\n  feedInTariff: "1e-2"\n', '"1e-2"'],
  ] as const) {
    const e = configError(yaml);
    assert.equal(e.field, 'market.feedInTariff');
    assert.ok(
      e.message.includes(`market.feedInTariff (line 2) = ${value}: expected a decimal string such as "0.1250"`),
      e.message,
    );
  }
});

test('rules beyond the schema: tariff order, price grid, references', () => {
  let e = configError('market:\n  feedInTariff: "0.5000"\n  retailTariff: "0.3000"\n');
  assert.match(e.message, /market\.feedInTariff \(line 2\) = "0\.5000": expected at most market\.retailTariff/);
  e = configError('market:\n  retailTariff: "0.30001"\n');
  assert.match(e.message, /multiple of market\.priceTick/);
  e = configError('participants:\n  - id: a\n    name: A\n    meters: [{ id: m1, device: nope }]\n');
  assert.match(
    e.message,
    /participants\[0\]\.meters\[0\]\.device .*= "nope": expected the id of a device in bridge\.devices/,
  );
  e = configError('participants:\n  - id: a\n    name: A\n    policy: { minSellPrice: "0.9000" }\n');
  assert.match(e.message, /participants\[0\]\.policy\.minSellPrice .*between market\.feedInTariff/);
});

test('a secret written inline is refused: secrets come from the environment or a file', () => {
  const e = configError('chain:\n  privateKey: "0xabc"\n');
  assert.equal(e.field, 'chain.privateKey');
  assert.match(e.message, /\{ env: VARIABLE_NAME \} or \{ file: \/path\/to\/secret \}/);
  assert.doesNotThrow(() => parseConfigText('chain:\n  privateKey: { env: MGX_KEY }\n', 'x'));
});

test('several problems are all reported at once', () => {
  const e = configError('market:\n  intervalMinutes: 7\n  k: 2\nserver:\n  port: 70000\n');
  for (const key of ['market.intervalMinutes', 'market.k', 'server.port'])
    assert.ok(e.message.includes(key), `${key} in ${e.message}`);
});

test('broken YAML is a parse error with a line number', () => {
  try {
    parseConfigText('market:\n  intervalMinutes: [15\n', 'microgrid.yaml');
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof MicrogridError && e.code === 'CONFIG_PARSE', String(e));
    assert.match(e.message, /microgrid\.yaml line \d+: not valid YAML/);
  }
});

test('the embedded demo configuration is valid and has 12 households', () => {
  const c = demoConfig();
  assert.equal(c.participants.length, 12);
  assert.equal(c.clock.speed, 60);
  assert.doesNotThrow(() => validateConfig(structuredClone(c)));
});
