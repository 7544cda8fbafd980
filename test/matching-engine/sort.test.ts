import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { packOrders } from '../../matching-engine/orders.js';
import { compileRules } from '../../matching-engine/rules.js';
import { sortBook } from '../../matching-engine/sort.js';
import type { OrderInput } from '../../core/market.js';
import { fcParams } from '../helpers/fc.js';
import { I, rules } from './helpers.js';
import { ZONES } from './arbitraries.js';

// sortBook against a comparison sort of the total order it documents: side (bids first), zone by name, price
// priority, seq, id. Both of its paths: the counting sort (a narrow price range) and the radix sort (a range so wide,
// with a 0.000001 tick, that counting would not pay). The engine's other tests clear through sortBook, so they could
// not see a wrong order that both sides share.

const wide = rules('uniform', { priceTick: '0.000001', priceFloor: '0.000001', priceCap: '0.900000' });
const narrow = rules();

const ordersArb = (tickOf: (x: number) => string): fc.Arbitrary<OrderInput[]> =>
  fc
    .array(
      fc.record({
        bid: fc.boolean(),
        energyWh: fc.integer({ min: 1, max: 50 }),
        price: fc.integer({ min: 0, max: 2200 }),
        zone: fc.constantFrom(...ZONES),
        seq: fc.integer({ min: 0, max: 6 }),
      }),
      { maxLength: 60 },
    )
    .map((xs) =>
      xs.map((x, i) => ({
        id: `o${(i * 7) % 61}-${i}`,
        participant: `h${i % 5}`,
        side: x.bid ? 'bid' : 'offer',
        interval: I,
        energyWh: x.energyWh,
        price: tickOf(x.price),
        zone: x.zone,
        seq: x.seq,
      })),
    );

for (const [name, r, tickOf] of [
  ['counting sort', narrow, (x: number) => ((800 + x) / 10000).toFixed(4)],
  ['radix sort', wide, (x: number) => ((1 + x * 397) / 1e6).toFixed(6)],
] as const) {
  test(`sortBook (${name}) = a comparison sort of the total order; levels are the runs of one side, zone and price`, () => {
    fc.assert(
      fc.property(ordersArb(tickOf), (orders) => {
        const cr = compileRules(r);
        const p = packOrders(orders, I, cr);
        const s = sortBook(p, cr.floor, cr.cap);
        const cmp = (a: number, b: number): number =>
          p.side[a]! - p.side[b]! ||
          p.zone[a]! - p.zone[b]! ||
          (p.side[a] === 0 ? p.ticks[b]! - p.ticks[a]! : p.ticks[a]! - p.ticks[b]!) ||
          p.seq[a]! - p.seq[b]! ||
          (p.ids[a]! < p.ids[b]! ? -1 : 1);
        const want = [...Array(p.n).keys()].sort(cmp);
        assert.deepEqual([...s.perm], want);
        assert.deepEqual(
          [...s.bySeq],
          [...Array(p.n).keys()].sort((a, b) => p.seq[a]! - p.seq[b]! || (p.ids[a]! < p.ids[b]! ? -1 : 1)),
        );
        assert.deepEqual(
          [...s.qty],
          want.map((i) => p.qty[i]!),
        );
        const lv = s.levels;
        const levels: [number, number, number, number, number, number][] = [];
        for (let j = 0; j < want.length; j++) {
          const i = want[j]!;
          const last = levels[levels.length - 1];
          if (last && last[2] === p.side[i] && last[3] === p.zone[i] && last[4] === p.ticks[i]) {
            last[1] = j + 1;
            last[5] += p.qty[i]!;
          } else levels.push([j, j + 1, p.side[i]!, p.zone[i]!, p.ticks[i]!, p.qty[i]!]);
        }
        assert.equal(lv.count, levels.length);
        levels.forEach(([start, end, side, zone, ticks, volume], l) =>
          assert.deepEqual(
            [lv.start[l], lv.end[l], lv.side[l], lv.zone[l], lv.ticks[l], lv.volume[l]],
            [start, end, side, zone, ticks, volume],
          ),
        );
      }),
      fcParams(`sortBook ${name}`, { numRuns: 300 }),
    );
  });
}
