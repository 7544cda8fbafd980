import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clearBook } from '../../matching-engine/clear.js';
import { OrderBook } from '../../matching-engine/book.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { MECHANISMS } from '../../core/config/schema.js';
import type { ClearingResult, OrderInput } from '../../core/market.js';
import { fcParams } from '../helpers/fc.js';
import { checkInvariants } from './invariants.js';
import { I, order as o, rules } from './helpers.js';
import { bookArb, rulesArb } from './arbitraries.js';

// Preferred partners change who trades with whom inside a zone pair, never
// how much anyone fills, at what price, or the surplus.

const pairs = (r: ClearingResult): string[][] =>
  r.trades.map((t) => [t.buyOrder, t.sellOrder, String(t.energyWh), t.price]);

test('without partners the cursors pair in the total order; a bid naming a partner trades with its offers first', () => {
  const base = [
    o('b1', 'bid', 100, '0.2500', 1),
    o('b2', 'bid', 100, '0.2500', 2),
    o('s1', 'offer', 100, '0.1000', 3),
    o('s2', 'offer', 100, '0.1000', 4),
  ];
  assert.deepEqual(pairs(clearBook({ interval: I, orders: base }, rules())), [
    ['b1', 's1', '100', '0.1750'],
    ['b2', 's2', '100', '0.1750'],
  ]);
  const b1likes = base.map((x) => (x.id === 'b1' ? { ...x, partners: ['p-s2'] } : x));
  assert.deepEqual(pairs(clearBook({ interval: I, orders: b1likes }, rules())), [
    ['b1', 's2', '100', '0.1750'],
    ['b2', 's1', '100', '0.1750'],
  ]);
  // An offer naming a partner: s1 sells to b2 first.
  const s1likes = base.map((x) => (x.id === 's1' ? { ...x, partners: ['p-b2'] } : x));
  assert.deepEqual(pairs(clearBook({ interval: I, orders: s1likes }, rules())), [
    ['b2', 's1', '100', '0.1750'],
    ['b1', 's2', '100', '0.1750'],
  ]);
});

test('a partner with less energy: the bid takes what the partner has and the rest from the cursors', () => {
  const orders = [
    o('b1', 'bid', 150, '0.2500', 1, 'z'),
    { ...o('b2', 'bid', 100, '0.2500', 2, 'z'), partners: ['p-s2', 'p-nobody'] },
    o('s1', 'offer', 200, '0.1000', 3, 'z'),
    o('s2', 'offer', 50, '0.1000', 4, 'z'),
  ];
  const r = clearBook({ interval: I, orders }, rules('pay-as-bid'));
  assert.deepEqual(pairs(r), [
    ['b2', 's2', '50', '0.2500'],
    ['b1', 's1', '150', '0.2500'],
    ['b2', 's1', '50', '0.2500'],
  ]);
  checkInvariants(orders, rules('pay-as-bid'), r);
});

const withPartners = fc
  .tuple(
    bookArb(10, 9),
    fc.array(fc.tuple(fc.nat(), fc.subarray(['h1', 'h2', 'h3', 'h4', 'nobody'])), { maxLength: 6 }),
  )
  .map(([orders, picks]) => {
    const out: OrderInput[] = orders.map((x) => ({ ...x }));
    for (const [i, partners] of picks) if (out.length > 0) out[i % out.length]!.partners = partners;
    return out;
  });

test('partners never change fills, prices, matched energy or surplus; every invariant holds; book = list; shuffles change nothing', () => {
  fc.assert(
    fc.property(withPartners, rulesArb(true), fc.nat(), (orders, r, seed) => {
      const withP = clearBook({ interval: I, orders }, r);
      const without = clearBook({ interval: I, orders: orders.map(({ partners: _p, ...x }) => x) }, r);
      checkInvariants(orders, r, withP);
      assert.deepEqual(withP.remainders, without.remainders);
      assert.equal(withP.matchedWh, without.matchedWh);
      assert.equal(withP.clearingPrice, without.clearingPrice);
      assert.deepEqual(withP.zonePrices, without.zonePrices);
      assert.equal(withP.surplus, without.surplus);
      const shuffled = [...orders].sort(
        (x, y) => ((x.id.length * 7919 + seed) % 13) - ((y.id.length * 7919 + seed) % 13) || (x.id < y.id ? 1 : -1),
      );
      assert.equal(canonicalJson(clearBook({ interval: I, orders: shuffled }, r)), canonicalJson(withP));
      const book = new OrderBook(I, r);
      for (const x of shuffled) book.add(x);
      assert.equal(canonicalJson(book.clear()), canonicalJson(withP));
    }),
    fcParams('partners change pairing only', { numRuns: 300 }),
  );
});

test('every mechanism accepts partners (McAfee reduction included)', () => {
  const orders = [
    o('b1', 'bid', 100, '0.2500', 1),
    { ...o('b2', 'bid', 100, '0.2000', 2), partners: ['p-s1'] },
    o('s1', 'offer', 100, '0.1000', 3),
    o('s2', 'offer', 100, '0.1500', 4),
  ];
  for (const m of MECHANISMS) checkInvariants(orders, rules(m), clearBook({ interval: I, orders }, rules(m)));
});
