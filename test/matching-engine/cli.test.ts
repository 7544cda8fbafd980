import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMgx } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { clearBook } from '../../matching-engine/clear.js';
import type { ClearingResult } from '../../core/market.js';
import { I, order as o, rules } from './helpers.js';

const dir = tempDir('mgx-clear-');
const orders = [
  o('b1', 'bid', 1000, '0.2500', 1, 'north'),
  o('b2', 'bid', 500, '0.2000', 2, 'north'),
  o('s1', 'offer', 700, '0.1000', 3, 'north'),
  o('s2', 'offer', 800, '0.1500', 4, 'south'),
];
const bookFile = join(dir, 'book.json');
writeFileSync(bookFile, JSON.stringify({ interval: I, orders }, null, 2));

test('mgx clear prints the canonical ClearingResult, the same bytes as the engine', () => {
  const r = runMgx(['clear', '--book', bookFile]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${canonicalJson(clearBook({ interval: I, orders }, rules('uniform')))}\n`);
  const res = JSON.parse(r.stdout) as ClearingResult;
  assert.equal(res.clearingPrice, '0.1750');
  assert.equal(res.matchedWh, 1500);
});

test('mgx clear --mechanism and --k override; --format table is readable', () => {
  const r = runMgx(['clear', '--book', bookFile, '--mechanism', 'uniform', '--k', '0', '--format', 'table']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /clearing price 0\.1500 {3}matched 1500 Wh/);
  assert.match(r.stdout, /b1\s+s1\s+700\s+0\.1500\s+0\.0000/);
  assert.match(r.stdout, /buyers pay 0\.2250000 = sellers receive 0\.2250000 \+ fees 0\.0000000/);
  const m = JSON.parse(runMgx(['clear', '--book', bookFile, '--mechanism', 'mcafee']).stdout) as ClearingResult;
  assert.equal(m.rules.mechanism, 'mcafee');
  assert.equal(m.mcafee, 'reduced');
});

test('mgx clear takes the market section of --config; flags override it', () => {
  const cfg = join(dir, 'microgrid.yaml');
  writeFileSync(
    cfg,
    'market:\n  mechanism: pay-as-bid\n  feedInTariff: "0.0500"\n  retailTariff: "0.4000"\n  zoneFees:\n    - { from: south, to: north, fee: "0.1100" }\n',
  );
  const r = JSON.parse(runMgx(['clear', '--book', bookFile, '--config', cfg]).stdout) as ClearingResult;
  assert.deepEqual([r.rules.mechanism, r.rules.priceFloor, r.rules.priceCap], ['pay-as-bid', '0.0500', '0.4000']);
  // s2 (south, 0.15) + fee 0.11 = 0.26 > every bid: only s1 trades, 700 Wh to b1 at b1's bid.
  assert.deepEqual(
    r.trades.map((t) => [t.buyOrder, t.sellOrder, t.energyWh, t.price]),
    [['b1', 's1', 700, '0.2500']],
  );
  const u = JSON.parse(
    runMgx(['clear', '--book', bookFile, '--config', cfg, '--mechanism', 'uniform']).stdout,
  ) as ClearingResult;
  assert.equal(u.rules.mechanism, 'uniform');
  assert.deepEqual(u.rules.zoneFees, [{ from: 'south', to: 'north', fee: '0.1100' }]);
});

test('mgx clear: a bad order exits 2 with a message naming the order (index and id) and the field', () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(
    bad,
    JSON.stringify({ interval: I, orders: [orders[0], orders[1], { ...orders[2], price: '0.10' + '5' + '55' }] }),
  );
  const r = runMgx(['clear', '--book', bad]);
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /orders\[2\]\.price: invalid value in order "s1"; got "0\.10555"; expected a multiple of the price tick 0\.0001 \[INVALID_PRICE\]/,
  );
  writeFileSync(bad, JSON.stringify({ interval: I, orders: [orders[0], { ...orders[1], energyWh: 0 }] }));
  assert.match(runMgx(['clear', '--book', bad]).stderr, /orders\[1\]\.energyWh: invalid value in order "b2"; got 0/);
  writeFileSync(bad, JSON.stringify({ interval: I, orders: [orders[0], { ...orders[1], price: '0.5000' }] }));
  const high = runMgx(['clear', '--book', bad]);
  assert.equal(high.status, 2);
  assert.match(high.stderr, /orders\[1\]\.price: .*"b2".*\[PRICE_OUT_OF_RANGE\]/);
  writeFileSync(bad, '{ "interval": ');
  const notJson = runMgx(['clear', '--book', bad]);
  assert.equal(notJson.status, 2);
  assert.match(notJson.stderr, /--book: the book file is not valid JSON/);
  const none = runMgx(['clear']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--book/);
  const k = runMgx(['clear', '--book', bookFile, '--k', '1.5']);
  assert.equal(k.status, 2);
  assert.match(k.stderr, /--k: invalid value; got "1\.5"/);
});
