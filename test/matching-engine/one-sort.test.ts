import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clearBook } from '../../matching-engine/clear.js';
import { OrderBook } from '../../matching-engine/book.js';
import { compileRules } from '../../matching-engine/rules.js';
import { packOrders } from '../../matching-engine/orders.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { MECHANISMS } from '../../core/config/schema.js';
import type { OrderInput } from '../../core/market.js';
import { fcParams } from '../helpers/fc.js';
import { I } from './helpers.js';
import { ZONES, bookArb, rulesArb, tickStr } from './arbitraries.js';
import { clearTwoSorts } from './two-sorts.js';

/**
 * The book is sorted once (issue 16): self-netting and the auction read one total order, netting only drops what it
 * used up. The engine before that change (two-sorts.ts: netting built a second book, which was sorted again) is the
 * oracle: the same trades, prices, remainders and surplus, byte for byte, on random books — through clearBook (the
 * `mgx clear` and audit path) and through the OrderBook (the app's path).
 */

/** Two or three participants on both sides at crossing prices, so netting happens in most books. */
const crossingBookArb = fc.integer({ min: 2, max: 3 }).chain((np) =>
  fc
    .array(
      fc.record({
        side: fc.constantFrom('bid' as const, 'offer' as const),
        energyWh: fc.integer({ min: 1, max: 3000 }),
        ticks: fc.oneof(fc.constantFrom(800, 1500, 2000, 3000), fc.integer({ min: 800, max: 3000 })),
        zone: fc.constantFrom(...ZONES),
        seq: fc.integer({ min: 0, max: 4 }),
        participant: fc.integer({ min: 1, max: np }).map((i) => `h${i}`),
      }),
      { maxLength: 50 },
    )
    .map((xs) =>
      xs.map((x, i): OrderInput => ({
        id: `o${i}`,
        participant: x.participant,
        side: x.side,
        interval: I,
        energyWh: x.energyWh,
        price: tickStr(x.ticks),
        zone: x.zone,
        seq: x.seq,
      })),
    ),
);

test('one sort = the two-sort engine, byte for byte: trades, prices, remainders (netted too), surplus', () => {
  let netting = 0;
  let books = 0;
  fc.assert(
    fc.property(fc.oneof(crossingBookArb, bookArb(40, 3000)), rulesArb(true), (orders, r0) => {
      for (const mechanism of MECHANISMS) {
        const r = { ...r0, mechanism };
        const cr = compileRules(r);
        const want = canonicalJson(clearTwoSorts(packOrders(orders, I, cr), I, 'forward', cr));
        const res = clearBook({ interval: I, orders }, r);
        assert.equal(canonicalJson(res), want, `${mechanism}: clearBook`);
        const book = new OrderBook(I, r);
        for (const o of orders) book.add(o);
        assert.equal(canonicalJson(book.clear()), want, `${mechanism}: OrderBook.clear()`);
        books++;
        if (res.remainders.some((x) => x.nettedWh !== undefined)) netting++;
      }
    }),
    fcParams('one sort = two sorts', { numRuns: 300 }),
  );
  // The property is about netting books: most must net, or it would check little.
  assert.ok(netting > books / 4, `only ${netting} of ${books} books netted`);
});

test('a result read after later clearings still lists its own trades and remainders (working arrays are reused)', () => {
  fc.assert(
    fc.property(crossingBookArb, bookArb(40, 3000), rulesArb(true), (a, b, r) => {
      const want = canonicalJson(clearBook({ interval: I, orders: a }, r));
      // Not read yet: the lists are built from the columns on first read, after b's clearing reused the working arrays.
      const first = clearBook({ interval: I, orders: a }, r);
      void canonicalJson(clearBook({ interval: I, orders: b }, r));
      assert.equal(canonicalJson(first), want);
    }),
    fcParams('results outlive the working arrays', { numRuns: 200 }),
  );
});
