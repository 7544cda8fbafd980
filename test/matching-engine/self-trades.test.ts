import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clearBook } from '../../matching-engine/clear.js';
import { OrderBook } from '../../matching-engine/book.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { MECHANISMS } from '../../core/config/schema.js';
import { PriceScale } from '../../core/units.js';
import type { ClearingResult, ClearingRules, OrderInput } from '../../core/market.js';
import { fcParams } from '../helpers/fc.js';
import { checkInvariants, nettedBook } from './invariants.js';
import { I, rules } from './helpers.js';
import { rulesArb, tickStr, ZONES } from './arbitraries.js';

/**
 * No self-trades in any mechanism (issue 12): a participant's own bid and
 * offer that could trade are netted before the auction (matching-engine/self-net.ts).
 */

/** Books where participants repeat a lot (two to four of them), on both sides, at crossing prices. */
const repeatedBookArb = (max: number, maxWh: number): fc.Arbitrary<OrderInput[]> =>
  fc.integer({ min: 2, max: 4 }).chain((np) =>
    fc
      .array(
        fc.record({
          side: fc.constantFrom('bid' as const, 'offer' as const),
          energyWh: fc.integer({ min: 1, max: maxWh }),
          ticks: fc.oneof(fc.constantFrom(800, 1000, 1500, 2000, 3000), fc.integer({ min: 800, max: 3000 })),
          zone: fc.oneof(fc.constant('A'), fc.constantFrom(...ZONES)),
          seq: fc.integer({ min: 0, max: 5 }),
          participant: fc.integer({ min: 1, max: np }).map((i) => `h${i}`),
        }),
        { maxLength: max },
      )
      .map((xs) =>
        xs.map((x, i) => ({
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

const feeOf = (r: ClearingRules, from: string, to: string): number => {
  const f = r.zoneFees.find((x) => x.from === from && x.to === to);
  return f ? new PriceScale(r.priceTick).toTicks(f.fee) : 0;
};

/** After netting, no participant keeps a bid and an offer that could trade with each other. */
function assertNettedFully(orders: OrderInput[], r: ClearingRules, res: ClearingResult): void {
  const scale = new PriceScale(r.priceTick);
  const left = nettedBook(orders, res);
  for (const b of left.filter((o) => o.side === 'bid')) {
    for (const o of left.filter((x) => x.side === 'offer' && x.participant === b.participant)) {
      assert.ok(
        scale.toTicks(b.price) < scale.toTicks(o.price) + feeOf(r, o.zone, b.zone),
        `${b.participant} keeps bid ${b.id} @ ${b.price} and offer ${o.id} @ ${o.price} (${o.zone} → ${b.zone}): they should have been netted`,
      );
    }
  }
}

test('every mechanism, random books with repeated participants: no trade has buyer = seller; volumes balance, prices within limits; netting is complete', () => {
  fc.assert(
    fc.property(repeatedBookArb(40, 2000), rulesArb(true), (orders, r0) => {
      for (const mechanism of MECHANISMS) {
        const r = { ...r0, mechanism };
        const res = clearBook({ interval: I, orders }, r);
        for (const t of res.trades) assert.notEqual(t.buyer, t.seller, `${mechanism}: ${t.buyer} bought from itself`);
        checkInvariants(orders, r, res);
        assertNettedFully(orders, r, res);
        // The auction on the netted book, given as it is, nets nothing and reaches the same surplus (which of two
        // equal-priced orders trades may differ: a zone whose orders all netted away no longer shapes the book).
        const again = clearBook({ interval: I, orders: nettedBook(orders, res) }, r);
        assert.ok(again.remainders.every((x) => x.nettedWh === undefined));
        if (mechanism !== 'mcafee')
          assert.equal(again.surplus, res.surplus, `${mechanism}: the same surplus from the netted book`);
        // The OrderBook (participants numbered as orders arrive; a cancelled order leaves a hole) nets the same.
        const book = new OrderBook(I, r);
        book.add({
          id: 'cancelled',
          participant: 'h9',
          side: 'bid',
          interval: I,
          energyWh: 1,
          price: '0.1000',
          zone: 'A',
          seq: 0,
        });
        for (const o of orders) book.add(o);
        book.cancel('cancelled');
        assert.equal(canonicalJson(book.clear()), canonicalJson(res), `${mechanism}: OrderBook and clearBook agree`);
      }
    }),
    fcParams('no self-trades', { numRuns: 150 }),
  );
});

test('netting goes highest own bid against lowest own offer; the others clear at their own price', () => {
  const o = (
    id: string,
    participant: string,
    side: 'bid' | 'offer',
    energyWh: number,
    price: string,
    seq: number,
  ): OrderInput => ({ id, participant, side, interval: I, energyWh, price, zone: 'main', seq });
  const orders = [
    o('a-bid-hi', 'A', 'bid', 60, '0.2800', 1),
    o('a-bid-lo', 'A', 'bid', 60, '0.1200', 2),
    o('a-offer', 'A', 'offer', 100, '0.1000', 3),
    o('b-bid', 'B', 'bid', 100, '0.2000', 4),
    o('c-offer', 'C', 'offer', 50, '0.1500', 5),
  ];
  for (const mechanism of MECHANISMS) {
    const res = clearBook({ interval: I, orders }, rules(mechanism));
    const rem = Object.fromEntries(res.remainders.map((x) => [x.order, [x.filledWh, x.nettedWh ?? 0, x.leftWh]]));
    // A nets its 100 Wh offer: 60 against its 0.28 bid, 40 against its 0.12 bid; 20 Wh of the 0.12 bid is left for the
    // market.
    assert.deepEqual(rem['a-bid-hi'], [0, 60, 0], mechanism);
    assert.deepEqual(rem['a-offer'], [0, 100, 0], mechanism);
    assert.equal(rem['a-bid-lo']![1], 40, mechanism);
    assert.ok(res.trades.every((t) => t.buyer !== t.seller));
    // C's 50 Wh at 0.15 goes to B (0.20): A's remaining 20 Wh bid at 0.12 is below C's offer.
    // (McAfee may drop that one crossing pair: what it keeps is the same pair.)
    if (mechanism === 'mcafee') assert.ok(res.trades.every((t) => t.seller === 'C' && t.buyer === 'B'));
    else
      assert.deepEqual(
        res.trades.map((t) => [t.seller, t.buyer, t.energyWh]),
        [['C', 'B', 50]],
        mechanism,
      );
  }
  // Uniform: B's bid is filled in part (50 of 100 Wh), so it sets the price, 0.20. Without netting the same book
  // cleared at 0.20 too, with A selling 60 Wh to itself and 40 Wh to B (measured on the engine before this change).
  assert.equal(clearBook({ interval: I, orders }, rules('uniform')).clearingPrice, '0.2000');
});

test('forward orders through the OrderBook (the API path) never pair a participant with itself', () => {
  for (const mechanism of MECHANISMS) {
    const book = new OrderBook(I, rules(mechanism));
    let seq = 0;
    const add = (participant: string, side: 'bid' | 'offer', energyWh: number, price: string): void =>
      book.add({ id: `o${seq}`, participant, side, interval: I, energyWh, price, zone: 'main', seq: seq++ });
    // Only h1's bid and offer cross: without netting they would be the efficient (and only) trade.
    add('h1', 'bid', 500, '0.2500');
    add('h1', 'offer', 300, '0.1000');
    add('h2', 'bid', 200, '0.0900');
    const res = book.clear();
    assert.deepEqual(res.trades, [], mechanism);
    assert.equal(res.matchedWh, 0);
    assert.deepEqual(
      res.remainders.map((x) => [x.order, x.filledWh, x.nettedWh ?? 0, x.leftWh]),
      [
        ['o0', 0, 300, 200],
        ['o1', 0, 300, 0],
        ['o2', 0, 0, 200],
      ],
      mechanism,
    );
  }
});
