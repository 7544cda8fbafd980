import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OrderBook } from '../../matching-engine/book.js';
import { IdIndex } from '../../matching-engine/ids.js';
import { clearBook } from '../../matching-engine/clear.js';
import { canonicalJson } from '../../core/canonical-json.js';
import type { ClearingKind, ClearingRules, OrderInput } from '../../core/market.js';
import { MECHANISMS } from '../../core/config/schema.js';
import { fcParams } from '../helpers/fc.js';
import { I, rules } from './helpers.js';
import { ZONES, bookArb, rulesArb, tickStr } from './arbitraries.js';

// The book packs orders into columns as they arrive and clears the columns at
// gate closure; clearBook validates and packs a list. Both must give the same
// result, byte for byte, after any sequence of adds, cancels and replaces.

type Op =
  | { kind: 'cancel'; pick: number }
  | { kind: 'replace'; pick: number; energyWh: number; ticks: number; zone: string; seq: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant('replace' as const),
    pick: fc.nat(),
    energyWh: fc.integer({ min: 1, max: 9 }),
    ticks: fc.integer({ min: 800, max: 3000 }),
    zone: fc.constantFrom(...ZONES),
    seq: fc.integer({ min: 0, max: 5 }),
  }),
);

function sameAsList(book: OrderBook, kind: ClearingKind): void {
  const fromList = canonicalJson(clearBook({ interval: I, kind, orders: book.orders() }, book.rules));
  assert.equal(canonicalJson(book.clear(kind)), fromList);
}

// Rules under which zones make no difference (no fee, or one fee for every pair, no limits): the book is cleared as
// one zone, from the counts its tally kept as orders came and went (tally.ts). Other rules sort the columns afresh.
const oneFeeArb: fc.Arbitrary<ClearingRules> = fc
  .record({ mechanism: fc.constantFrom(...MECHANISMS), fee: fc.constantFrom(0, 100, 300) })
  .map(({ mechanism, fee }) =>
    rules(mechanism, {
      zoneFees: fee === 0 ? [] : ZONES.flatMap((a) => ZONES.map((b) => ({ from: a, to: b, fee: tickStr(fee) }))),
    }),
  );

for (const [name, rulesOf] of [
  ['any rules', rulesArb(true)],
  ['one fee, no limits', oneFeeArb],
] as const)
  test(`book.clear() = clearBook(book.orders()), byte for byte, after any adds, cancels and replaces (${name})`, () => {
    fc.assert(
      fc.property(
        bookArb(12, 9),
        fc.array(opArb, { maxLength: 8 }),
        rulesOf,
        fc.constantFrom<ClearingKind>('forward', 'metered'),
        (orders, ops, r, kind) => {
          const book = new OrderBook(I, r);
          for (const o of orders) book.add(o);
          for (const op of ops) {
            const live = book.orders();
            if (live.length === 0) break;
            const target = live[op.pick % live.length]!;
            if (op.kind === 'cancel') book.cancel(target.id);
            else
              book.replace(target.id, {
                ...target,
                energyWh: op.energyWh,
                price: tickStr(op.ticks),
                zone: op.zone,
                seq: op.seq,
              });
          }
          sameAsList(book, kind);
        },
      ),
      fcParams(`book columns = clearBook (${name})`, { numRuns: 300 }),
    );
  });

test('a book that grows past its first column capacity, with holes, clears like the list', () => {
  const book = new OrderBook(I, rules('uniform', { zoneFees: [{ from: 'A', to: 'B', fee: '0.0100' }] }));
  for (let i = 0; i < 3000; i++) {
    book.add({
      id: `o${i}`,
      participant: `h${i % 37}`,
      side: i % 2 ? 'offer' : 'bid',
      interval: I,
      energyWh: 100 + (i % 13) * 50,
      price: tickStr(1000 + ((i * 7919) % 1500)),
      zone: ZONES[i % 3]!,
      seq: i,
    });
  }
  for (let i = 0; i < 3000; i += 7) book.cancel(`o${i}`);
  for (let i = 3; i < 3000; i += 11)
    if (book.get(`o${i}`)) book.replace(`o${i}`, { ...book.get(`o${i}`)!, energyWh: 42 });
  assert.equal(book.size, 3000 - Math.ceil(3000 / 7));
  sameAsList(book, 'forward');
});

test('zones numbered as they arrive: reverse name order, a zone first seen late in a big book, a zone emptied', () => {
  // Zones are kept in name order while the book is small and appended after that (book.ts RENUMBER_MAX); both must
  // clear like the list, with fees that make the zone order matter.
  const fees = [
    { from: 'A', to: 'B', fee: '0.0100' },
    { from: 'C', to: 'A', fee: '0.0200' },
    { from: 'D', to: 'C', fee: '0.0050' },
  ];
  const order = (i: number, zone: string): OrderInput => ({
    id: `o${i}`,
    participant: `h${i % 41}`,
    side: i % 2 ? 'offer' : 'bid',
    interval: I,
    energyWh: 100 + (i % 17) * 30,
    price: tickStr(1000 + ((i * 7919) % 1500)),
    zone,
    seq: i,
  });
  for (const late of [10, 6000]) {
    const book = new OrderBook(I, rules('uniform', { zoneFees: fees }));
    const early = ['D', 'C', 'B'];
    for (let i = 0; i < 7000; i++) book.add(order(i, i >= late && i % 5 === 0 ? 'A' : early[i % 3]!));
    sameAsList(book, 'forward');
    const emptied = new OrderBook(I, rules('uniform', { zoneFees: fees }));
    for (let i = 0; i < 5000; i++) emptied.add(order(i, i === 4999 ? 'A' : early[i % 3]!));
    for (let i = 0; i < 5000; i += 3) emptied.cancel(`o${i}`); // every D order
    sameAsList(emptied, 'metered');
  }
});

test('the result lists its trades and remainders like plain data: JSON, structured clone, keys, assignment', () => {
  const orders: OrderInput[] = [
    { id: 'b1', participant: 'h1', side: 'bid', interval: I, energyWh: 300, price: '0.2000', zone: 'A', seq: 1 },
    { id: 's1', participant: 'h2', side: 'offer', interval: I, energyWh: 200, price: '0.1000', zone: 'A', seq: 2 },
  ];
  const r = clearBook({ interval: I, orders }, rules());
  assert.ok(Object.keys(r).includes('trades') && Object.keys(r).includes('remainders'));
  const plain = JSON.parse(JSON.stringify(r)) as typeof r;
  assert.deepEqual(plain.trades, [
    { buyOrder: 'b1', sellOrder: 's1', buyer: 'h1', seller: 'h2', energyWh: 200, price: '0.2000', fee: '0.0000' },
  ]);
  assert.deepEqual(
    plain.remainders.map((x) => [x.order, x.filledWh, x.leftWh]),
    [
      ['b1', 200, 100],
      ['s1', 200, 0],
    ],
  );
  assert.deepEqual(structuredClone(r), plain);
  assert.deepEqual({ ...r }, plain);
  // The rows themselves (built by constructors, result.ts): plain objects, keys in the order JSON lists them.
  assert.deepStrictEqual(r.trades, plain.trades);
  assert.deepStrictEqual(r.remainders, plain.remainders);
  for (const row of [...r.trades, ...r.remainders]) {
    assert.equal(Object.getPrototypeOf(row), Object.prototype);
    assert.equal(row.constructor, Object);
  }
  assert.deepEqual(Object.keys(r.remainders[0]!), ['order', 'participant', 'side', 'filledWh', 'leftWh']);
  assert.equal(r.trades, r.trades, 'built once, then the same list');
  r.trades = [];
  assert.deepEqual(r.trades, []);
  const r2 = clearBook({ interval: I, orders }, rules());
  r2.remainders = [];
  assert.deepEqual(r2.remainders, [], 'assigning before the first read replaces the list too');
});

test('IdIndex behaves like a Map under any adds and deletes (probe runs, wrap-around, growth)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), { maxLength: 4000 }), (ops) => {
      const ids: (string | undefined)[] = [];
      const index = new IdIndex(ids);
      const model = new Map<string, number>();
      for (const [add, k] of ops) {
        const id = `o${k}`;
        if (add && !model.has(id)) {
          ids.push(id);
          index.add(id, ids.length - 1);
          model.set(id, ids.length - 1);
        } else if (!add && model.has(id)) {
          index.delete(id);
          ids[model.get(id)!] = undefined;
          model.delete(id);
        }
      }
      assert.equal(index.size, model.size);
      for (let k = 0; k <= 3000; k++) assert.equal(index.get(`o${k}`), model.get(`o${k}`));
    }),
    fcParams('IdIndex = Map', { numRuns: 60 }),
  );
});
