import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OrderBook } from '../../matching-engine/book.js';
import { benchRules, INTERVAL } from '../../matching-engine/bench/books.js';
import { rulesFromConfig } from '../../matching-engine/rules.js';
import { clearTinyBooks } from '../../matching-engine/warm-up.js';
import { validateConfig } from '../../core/config/validate.js';

// Issue 16: the classes of the clearing's objects lived only while some object had them, so a full collection between
// two clearings freed them and V8 deoptimised the engine's hot functions ("weak objects"); the next big clearing ran
// unoptimised (warm-up.ts). V8 says so under --trace-deopt, which is what this test reads.
// Not yet in the list: pairTrades and tradeObjects are still deoptimised at the third collection, by an object this
// test has not found (keeping every result alive does not change it); both are re-optimised within the clearing.
const HOT = ['sortBook', 'takeNetted', 'sweep', 'keepLevel', 'groupsOf', 'allocateOrders', 'emit', 'remainders'];

test('a full collection between clearings deoptimises none of the engine hot functions', () => {
  const script = fileURLToPath(new URL('./fixtures/clear-after-gc.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', '--trace-deopt', '--import', 'tsx', script, '200000'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /=== done/);
  // From the second clearing on: the first compiles everything, and the collection before the second is the one that
  // freed the classes.
  const after = r.stdout.slice(r.stdout.indexOf('=== clearing 1'));
  const weak = [
    ...after.matchAll(/SharedFunctionInfo (\w+)>\) \(opt id \d+\) for deoptimization, reason: weak objects/g),
  ].map((m) => m[1]!);
  const hot = weak.filter((f) => HOT.includes(f));
  assert.deepEqual(hot, [], `deoptimised after a full collection: ${hot.join(', ')}`);
  // The trace is on: the fixture's own optimised code shows up in it, so an empty list is not a silent trace.
  assert.match(r.stdout, /bailout|marking dependent code|deoptimiz/);
});

test('the warm-up clears its tiny books under the bench rules and the default config rules (its errors are ignored)', () => {
  for (const rules of [
    benchRules('uniform', false),
    benchRules('mcafee', true),
    rulesFromConfig(validateConfig({}).market),
  ])
    assert.doesNotThrow(() => clearTinyBooks(OrderBook, INTERVAL, rules));
});
