import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fcParams } from '../../helpers/fc.js';
import { validateConfig } from '../../../core/config/validate.js';
import { MARKET_MAX_ORDER_WH, type OrderInput } from '../../../core/market.js';
import { canonicalJson } from '../../../core/canonical-json.js';
import { clearBook, rulesFromConfig, screenOrders } from '../../../matching-engine/index.js';

// Issue 13, item 2 as a property: a random book plus one adversarial order (one field
// made hostile) still clears; the hostile order is the one excluded, with its reason,
// and the result is the clearing of the honest book alone.
const rules = rulesFromConfig(validateConfig({ market: { intervalMinutes: 15 } }).market);
const INTERVAL = '2026-11-21T13:00:00Z';

const honestOrder = (i: number) =>
  fc
    .record({
      participant: fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5'),
      side: fc.constantFrom('bid' as const, 'offer' as const),
      energyWh: fc.integer({ min: 1, max: 5000 }),
      ticks: fc.integer({ min: 800, max: 3000 }),
      zone: fc.constantFrom('north', 'south'),
    })
    .map((o): OrderInput => ({
      id: `o${i}`,
      participant: o.participant,
      side: o.side,
      interval: INTERVAL,
      energyWh: o.energyWh,
      price: (o.ticks / 10_000).toFixed(4),
      zone: o.zone,
      seq: i,
    }));

const book = fc
  .integer({ min: 1, max: 40 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => honestOrder(i))));

/** One field of an order made hostile: every way a stored order could be wrong. */
const hostile: [string, (o: OrderInput) => Record<string, unknown>][] = [
  ['id', (o) => ({ ...o, id: 'has space' })],
  ['id', (o) => ({ ...o, id: 'o0' })], // a duplicate of the first honest order: the later one goes
  ['participant', (o) => ({ ...o, participant: '' })],
  ['side', (o) => ({ ...o, side: 'sell' })],
  ['interval', (o) => ({ ...o, interval: '2026-11-21T13:15:00Z' })],
  ['energyWh', (o) => ({ ...o, energyWh: Number.MAX_SAFE_INTEGER })],
  ['energyWh', (o) => ({ ...o, energyWh: MARKET_MAX_ORDER_WH + 1 })],
  ['energyWh', (o) => ({ ...o, energyWh: 0 })],
  ['energyWh', (o) => ({ ...o, energyWh: -5 })],
  ['energyWh', (o) => ({ ...o, energyWh: 1.5 })],
  ['energyWh', (o) => ({ ...o, energyWh: Number.NaN })],
  ['energyWh', (o) => ({ ...o, energyWh: '100' })],
  ['energyWh', (o) => ({ ...o, energyWh: 6001 })], // above this participant's capacity (6000 Wh)
  ['price', (o) => ({ ...o, price: '0.12345' })],
  ['price', (o) => ({ ...o, price: '9.9999' })],
  ['price', (o) => ({ ...o, price: 0.2 })],
  ['price', (o) => ({ ...o, price: '=1+1' })],
  ['zone', (o) => ({ ...o, zone: 'no/zone' })],
  ['seq', (o) => ({ ...o, seq: -1 })],
  ['partners', (o) => ({ ...o, partners: 'p1' })],
  ['greenOnly', (o) => ({ ...o, side: 'offer', greenOnly: true })],
  ['whole', () => ({ __proto__: null })],
];

test('random books with one hostile order per field still clear, without it', () => {
  fc.assert(
    fc.property(book, fc.integer({ min: 0, max: hostile.length - 1 }), fc.nat(), (orders, h, at) => {
      const [field, spoil] = hostile[h]!;
      // Capacity: 6000 Wh per participant and side, above any one honest order and the p9
      // order; honest orders together could exceed it, so the honest book is kept below.
      const honest = withinCapacity(orders);
      const base: OrderInput = {
        id: 'bad',
        participant: 'p9',
        side: 'bid',
        interval: INTERVAL,
        energyWh: 10,
        price: '0.2000',
        zone: 'north',
        seq: 1000,
      };
      const bad = spoil(base) as unknown as OrderInput;
      const duplicate = field === 'id' && bad.id === 'o0';
      if (duplicate) bad.id = honest[0]!.id;
      // A duplicate must come after the order it copies: the later one is excluded.
      const where = duplicate ? 1 + (at % honest.length) : at % (honest.length + 1);
      const input = [...honest.slice(0, where), bad, ...honest.slice(where)];
      const screened = screenOrders({ interval: INTERVAL, kind: 'forward', orders: input }, rules, () => 6000);
      assert.equal(screened.excluded.length, 1, `${field}: ${JSON.stringify(screened.excluded)}`);
      const ex = screened.excluded[0]!;
      assert.ok(ex.reason.length > 0 && typeof ex.code === 'string');
      assert.equal(screened.orders.length, honest.length);
      const got = clearBook({ interval: INTERVAL, kind: 'forward', orders: screened.orders }, rules);
      const want = clearBook({ interval: INTERVAL, kind: 'forward', orders: honest }, rules);
      assert.equal(canonicalJson(got), canonicalJson(want));
    }),
    fcParams('gate closure screening', { numRuns: 300 }),
  );
});

/** Keeps honest orders within 6000 Wh per participant and side, in seq order (as screenOrders counts them). */
function withinCapacity(orders: OrderInput[]): OrderInput[] {
  const used = new Map<string, number>();
  return orders.filter((o) => {
    const k = `${o.participant}:${o.side}`;
    const u = (used.get(k) ?? 0) + o.energyWh;
    if (u > 6000) return false;
    used.set(k, u);
    return true;
  });
}
