import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clearBook } from '../../matching-engine/clear.js';
import { intervalMoney } from '../../matching-engine/money.js';
import type { ClearingResult, ClearingRules, OrderInput } from '../../core/market.js';
import { I, order as o, rules } from './helpers.js';

// Worked examples: exact trades, prices and remainders, worked out by hand
// (the reasoning is in each comment), for every mechanism and the edge cases.

const clear = (orders: OrderInput[], r: ClearingRules): ClearingResult => clearBook({ interval: I, orders }, r);
/** Trades as "buyer<-seller Wh @price+fee [buyer price]" for compact exact comparison. */
const trades = (r: ClearingResult): string[] =>
  r.trades.map(
    (t) =>
      `${t.buyOrder}<-${t.sellOrder} ${t.energyWh} @${t.price}+${t.fee}${t.buyerPrice ? ` buyer ${t.buyerPrice}` : ''}`,
  );
const left = (r: ClearingResult): string[] => r.remainders.map((x) => `${x.order} ${x.filledWh}/${x.leftWh}`);

// Book A: bids 0.25×1000, 0.20×500, 0.12×800; offers 0.10×700, 0.15×1000.
// Efficient: both upper bids (1500 Wh) against s1 700 + 800 of s2. s2's level
// is cut (200 Wh left), so the price is pinned at 0.15 whatever k.
const bookA = [
  o('b1', 'bid', 1000, '0.2500', 1),
  o('b2', 'bid', 500, '0.2000', 2),
  o('b3', 'bid', 800, '0.1200', 3),
  o('s1', 'offer', 700, '0.1000', 4),
  o('s2', 'offer', 1000, '0.1500', 5),
];
const leftA = ['b1 1000/0', 'b2 500/0', 'b3 0/800', 's1 700/0', 's2 800/200'];

test('uniform price: book A clears 1500 Wh at 0.1500 with surplus 0.16', () => {
  const r = clear(bookA, rules('uniform'));
  assert.equal(r.clearingPrice, '0.1500');
  assert.equal(r.matchedWh, 1500);
  // (0.25·1000 + 0.20·500 − 0.10·700 − 0.15·800) / 1000
  assert.equal(r.surplus, '0.1600000');
  assert.deepEqual(trades(r), ['b1<-s1 700 @0.1500+0.0000', 'b1<-s2 300 @0.1500+0.0000', 'b2<-s2 500 @0.1500+0.0000']);
  assert.deepEqual(left(r), leftA);
  assert.deepEqual(r.zonePrices, [{ zone: 'main', sellerPrice: '0.1500', buyerPrice: '0.1500' }]);
});

test("pay-as-bid: the same allocation, each trade at the buyer's limit", () => {
  const r = clear(bookA, rules('pay-as-bid'));
  assert.equal(r.clearingPrice, null);
  assert.equal(r.surplus, '0.1600000');
  assert.deepEqual(trades(r), ['b1<-s1 700 @0.2500+0.0000', 'b1<-s2 300 @0.2500+0.0000', 'b2<-s2 500 @0.2000+0.0000']);
  assert.deepEqual(left(r), leftA);
});

test("pay-as-offer: the same allocation, each trade at the seller's limit", () => {
  const r = clear(bookA, rules('pay-as-offer'));
  assert.deepEqual(trades(r), ['b1<-s1 700 @0.1000+0.0000', 'b1<-s2 300 @0.1500+0.0000', 'b2<-s2 500 @0.1500+0.0000']);
  assert.deepEqual(left(r), leftA);
});

test('McAfee on book A: p0 = (0.12 + 0.15)/2 is below s_q = 0.15, so the last pair (b2, s2) is dropped', () => {
  const r = clear(bookA, rules('mcafee'));
  assert.equal(r.mcafee, 'reduced');
  // b1 keeps up to its efficient fill (1000), s1 up to 700: 700 Wh; buyers pay b_q = 0.20, sellers get s_q = 0.15.
  assert.deepEqual(trades(r), ['b1<-s1 700 @0.1500+0.0000 buyer 0.2000']);
  assert.equal(r.matchedWh, 700);
  assert.equal(r.operatorSurplus, '0.0350000'); // (0.20 − 0.15) × 0.7 kWh
  assert.equal(r.surplus, '0.1050000'); // (0.25 − 0.10) × 0.7 kWh
  assert.deepEqual(left(r), ['b1 700/300', 'b2 0/500', 'b3 0/800', 's1 700/0', 's2 0/1000']);
  const m = intervalMoney(r);
  assert.deepEqual(m, {
    buyersPay: '0.1400000',
    sellersReceive: '0.1050000',
    fees: '0.0000000',
    operator: '0.0350000',
  });
});

test('McAfee single price: p0 = (0.12 + 0.28)/2 = 0.20 lies in [s_q, b_q] = [0.15, 0.25], so both pairs trade at 0.20', () => {
  const book = [
    o('b1', 'bid', 100, '0.3000', 1),
    o('b2', 'bid', 100, '0.2500', 2),
    o('b3', 'bid', 100, '0.1200', 3),
    o('s1', 'offer', 100, '0.1000', 4),
    o('s2', 'offer', 100, '0.1500', 5),
    o('s3', 'offer', 100, '0.2800', 6),
  ];
  const r = clear(book, rules('mcafee'));
  assert.equal(r.mcafee, 'single-price');
  assert.equal(r.clearingPrice, '0.2000');
  assert.deepEqual(trades(r), ['b1<-s1 100 @0.2000+0.0000', 'b2<-s2 100 @0.2000+0.0000']);
  assert.equal(r.operatorSurplus, undefined);
});

test('k-double price: with no order cut, the price is ask + k·(bid − ask) on [0.15, 0.20]', () => {
  const book = [
    o('b1', 'bid', 1000, '0.2500', 1),
    o('b2', 'bid', 500, '0.2000', 2),
    o('s1', 'offer', 700, '0.1000', 3),
    o('s2', 'offer', 800, '0.1500', 4),
  ];
  const price = (k: number): string | null => clear(book, rules('uniform', { k })).clearingPrice;
  assert.equal(price(0), '0.1500');
  assert.equal(price(0.3), '0.1650');
  assert.equal(price(0.5), '0.1750');
  assert.equal(price(1), '0.2000');
});

test('k-double rounding: an exact half tick rounds down, towards the ask', () => {
  const r = clear([o('b', 'bid', 10, '0.1501', 1), o('s', 'offer', 10, '0.1500', 2)], rules('uniform'));
  assert.equal(r.clearingPrice, '0.1500');
  const r3 = clear([o('b', 'bid', 10, '0.1503', 1), o('s', 'offer', 10, '0.1500', 2)], rules('uniform', { k: 0.5 }));
  assert.equal(r3.clearingPrice, '0.1501'); // 0.15015 → 0.1501
});

test('ties at the marginal price: pro rata by volume, the remainder by submission sequence', () => {
  // 701 Wh for a 1000 Wh level: 701·300/1000 = 210.3, 701·500/1000 = 350.5, 701·200/1000 = 140.2
  // → 210 + 350 + 140 = 700; the last Wh goes to the earliest seq (b2, seq 1).
  const book = [
    o('b1', 'bid', 300, '0.2000', 3),
    o('b2', 'bid', 500, '0.2000', 1),
    o('b3', 'bid', 200, '0.2000', 2),
    o('s1', 'offer', 701, '0.1000', 4),
  ];
  const r = clear(book, rules('uniform'));
  assert.equal(r.clearingPrice, '0.2000'); // the rationed bid level sets the price
  assert.deepEqual(trades(r), ['b2<-s1 351 @0.2000+0.0000', 'b3<-s1 140 @0.2000+0.0000', 'b1<-s1 210 @0.2000+0.0000']);
  assert.deepEqual(left(r), ['b2 351/149', 'b3 140/60', 'b1 210/90', 's1 701/0']);
  assert.deepEqual(trades(clear(book, rules('pay-as-offer'))), [
    'b2<-s1 351 @0.1000+0.0000',
    'b3<-s1 140 @0.1000+0.0000',
    'b1<-s1 210 @0.1000+0.0000',
  ]);
});

test('ties with the same seq: the remainder goes by id', () => {
  const r = clear(
    [o('b-b', 'bid', 100, '0.2000', 5), o('b-a', 'bid', 100, '0.2000', 5), o('s1', 'offer', 101, '0.1000', 1)],
    rules('uniform'),
  );
  assert.deepEqual(trades(r), ['b-a<-s1 51 @0.2000+0.0000', 'b-b<-s1 50 @0.2000+0.0000']);
});

test('McAfee with one seller: dropping the last pair leaves no trade and no deficit', () => {
  const book = [o('b1', 'bid', 300, '0.2000', 3), o('b2', 'bid', 500, '0.2000', 1), o('s1', 'offer', 701, '0.1000', 4)];
  const r = clear(book, rules('mcafee'));
  assert.equal(r.mcafee, 'reduced');
  assert.deepEqual(r.trades, []);
  assert.equal(r.operatorSurplus, '0.0000000');
});

for (const mechanism of ['uniform', 'pay-as-bid', 'pay-as-offer', 'mcafee'] as const) {
  test(`${mechanism}: a single-sided book and an empty book trade nothing`, () => {
    const one = clear([o('b1', 'bid', 100, '0.3000', 1), o('b2', 'bid', 50, '0.1000', 2)], rules(mechanism));
    assert.deepEqual(one.trades, []);
    assert.equal(one.matchedWh, 0);
    assert.equal(one.clearingPrice, null);
    assert.equal(one.surplus, '0.0000000');
    assert.deepEqual(left(one), ['b1 0/100', 'b2 0/50']);
    const empty = clear([], rules(mechanism));
    assert.deepEqual([empty.trades, empty.remainders, empty.matchedWh, empty.clearingPrice], [[], [], 0, null]);
  });
}

test('all orders at the same price: they trade (bid = offer), pro rata, with zero surplus', () => {
  const r = clear(
    [o('b1', 'bid', 400, '0.1500', 1), o('b2', 'bid', 600, '0.1500', 2), o('s1', 'offer', 500, '0.1500', 3)],
    rules('uniform'),
  );
  assert.equal(r.clearingPrice, '0.1500');
  assert.deepEqual(trades(r), ['b1<-s1 200 @0.1500+0.0000', 'b2<-s1 300 @0.1500+0.0000']);
  assert.equal(r.surplus, '0.0000000');
});

test('a zone fee blocks a trade when bid < offer + fee, and allows it when bid = offer + fee', () => {
  const book = [o('b', 'bid', 100, '0.1600', 1, 'B'), o('s', 'offer', 100, '0.1000', 2, 'A')];
  const blocked = clear(book, rules('uniform', { zoneFees: [{ from: 'A', to: 'B', fee: '0.0700' }] }));
  assert.deepEqual(blocked.trades, []);
  assert.deepEqual(left(blocked), ['b 0/100', 's 0/100']);
  const allowed = clear(book, rules('uniform', { zoneFees: [{ from: 'A', to: 'B', fee: '0.0600' }] }));
  // The buyer's limit binds: seller price 0.10, buyer pays 0.10 + 0.06 = its bid.
  assert.deepEqual(trades(allowed), ['b<-s 100 @0.1000+0.0600']);
  assert.equal(allowed.surplus, '0.0000000');
  const m = intervalMoney(allowed);
  assert.deepEqual(m, {
    buyersPay: '0.0160000',
    sellersReceive: '0.0100000',
    fees: '0.0060000',
    operator: '0.0000000',
  });
  for (const mech of ['pay-as-bid', 'pay-as-offer', 'mcafee'] as const) {
    assert.deepEqual(clear(book, rules(mech, { zoneFees: [{ from: 'A', to: 'B', fee: '0.0700' }] })).trades, [], mech);
  }
});

test('zonal prices: a fee on the marginal inter-zone trade sets the seller price (bid − fee)', () => {
  // s1 (A) sells to b2 (A, margin 0.10) first, then 50 Wh to b1 (B, margin 0.08, cut).
  // b1's level is cut, so B's buyer price is 0.20 and A's seller price 0.20 − 0.02 = 0.18.
  const book = [
    o('b1', 'bid', 100, '0.2000', 1, 'B'),
    o('b2', 'bid', 100, '0.2000', 2, 'A'),
    o('s1', 'offer', 150, '0.1000', 3, 'A'),
  ];
  const r = clear(book, rules('uniform', { zoneFees: [{ from: 'A', to: 'B', fee: '0.0200' }] }));
  assert.deepEqual(trades(r), ['b2<-s1 100 @0.1800+0.0000', 'b1<-s1 50 @0.1800+0.0200']);
  assert.equal(r.clearingPrice, '0.1800');
  assert.equal(r.surplus, '0.0140000'); // 100 × 0.10 + 50 × 0.08, per kWh
});

test('export limit: a zone never sells more than its limit to other zones; its cheap energy is used first', () => {
  const book = [
    o('sa', 'offer', 1000, '0.1000', 1, 'A'),
    o('bb', 'bid', 1000, '0.2500', 2, 'B'),
    o('sb', 'offer', 1000, '0.2000', 3, 'B'),
  ];
  const r = clear(book, rules('uniform', { zoneExportLimitsWh: { A: 400 } }));
  assert.deepEqual(trades(r), ['bb<-sa 400 @0.1000+0.0000', 'bb<-sb 600 @0.2000+0.0000']);
  assert.equal(r.clearingPrice, null); // two zones, two seller prices
  assert.deepEqual(
    r.zonePrices?.map((z) => [z.zone, z.sellerPrice]),
    [
      ['A', '0.1000'],
      ['B', '0.2000'],
    ],
  );
  assert.equal(r.surplus, '0.0900000');
});
