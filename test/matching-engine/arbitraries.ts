import fc from 'fast-check';
import { MECHANISMS } from '../../core/config/schema.js';
import type { ClearingRules, OrderInput } from '../../core/market.js';
import { I, rules } from './helpers.js';

// Random books and rules for the engine's property tests.

export const ZONES = ['A', 'B', 'C'];
export const tickStr = (t: number): string => (t / 10000).toFixed(4);

/** Books of up to `max` orders: few distinct prices and seqs, so ties are common. */
export const bookArb = (max: number, maxWh: number): fc.Arbitrary<OrderInput[]> =>
  fc
    .array(
      fc.record({
        side: fc.constantFrom('bid' as const, 'offer' as const),
        energyWh: fc.integer({ min: 1, max: maxWh }),
        ticks: fc.oneof(fc.constantFrom(800, 1000, 1200, 1500, 1800, 2000, 3000), fc.integer({ min: 800, max: 3000 })),
        zone: fc.constantFrom(...ZONES),
        seq: fc.integer({ min: 0, max: 5 }),
        participant: fc.constantFrom('h1', 'h2', 'h3', 'h4'),
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
    );

export const rulesArb = (withLimits: boolean): fc.Arbitrary<ClearingRules> =>
  fc
    .record({
      mechanism: fc.constantFrom(...MECHANISMS),
      k: fc.oneof(
        fc.constantFrom(0, 0.5, 1),
        fc.integer({ min: 0, max: 1000 }).map((x) => x / 1000),
      ),
      fees: fc.array(
        fc.record({
          from: fc.constantFrom(...ZONES),
          to: fc.constantFrom(...ZONES),
          fee: fc.constantFrom(0, 100, 300, 700),
        }),
        { maxLength: 6 },
      ),
      limits: withLimits ? fc.dictionary(fc.constantFrom(...ZONES), fc.integer({ min: 0, max: 6 })) : fc.constant({}),
    })
    .map((x) => {
      const seen = new Set<string>();
      const zoneFees = x.fees
        .filter((f) => !seen.has(f.from + f.to) && seen.add(f.from + f.to))
        .map((f) => ({ from: f.from, to: f.to, fee: tickStr(f.fee) }));
      return rules(x.mechanism, { k: x.k, zoneFees, zoneExportLimitsWh: x.limits });
    });
