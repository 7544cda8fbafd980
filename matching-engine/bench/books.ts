import type { ClearingRules, OrderInput } from '../../core/market.js';
import type { Mechanism } from '../../core/config/schema.js';
import { RULE_SET_VERSION } from '../rules.js';
import { mulberry32 } from '../../core/seeded-random.js';

// Seeded books for the benchmark (and for tests that want big books).

export const INTERVAL = '2026-11-21T12:00:00Z';

/**
 * A book of n orders, half bids and half offers, in 4 zones, prices on the
 * 0.0001 grid between the floor 0.0800 and the cap 0.3000 (bids centred
 * higher than offers so about half the volume crosses), 100 Wh to 5 kWh each.
 */
export function randomBook(n: number, seed: number): OrderInput[] {
  const rnd = mulberry32(seed);
  const zones = ['north', 'south', 'east', 'west'];
  const orders: OrderInput[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const bid = i % 2 === 0;
    const centre = bid ? 1900 : 1500;
    const ticks = Math.max(800, Math.min(3000, Math.round(centre + (rnd() + rnd() + rnd() - 1.5) * 900)));
    orders[i] = {
      id: `o${i}`,
      participant: `h${Math.floor(rnd() * 5000)}`,
      side: bid ? 'bid' : 'offer',
      interval: INTERVAL,
      energyWh: 100 + Math.floor(rnd() * 4900),
      price: (ticks / 10000).toFixed(4),
      zone: zones[Math.floor(rnd() * zones.length)]!,
      seq: i,
    };
  }
  return orders;
}

export function benchRules(mechanism: Mechanism, zoned: boolean): ClearingRules {
  return {
    mechanism,
    k: 0.5,
    priceTick: '0.0001',
    priceFloor: '0.0800',
    priceCap: '0.3000',
    zoneFees: zoned
      ? [
          { from: 'north', to: 'south', fee: '0.0100' },
          { from: 'south', to: 'north', fee: '0.0100' },
          { from: 'east', to: 'west', fee: '0.0200' },
          { from: 'west', to: 'east', fee: '0.0200' },
        ]
      : [],
    zoneExportLimitsWh: zoned ? { east: 1_000_000 } : {},
    ruleSetVersion: RULE_SET_VERSION,
  };
}
