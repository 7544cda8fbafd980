import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clearMetered, meteredOrders, type MeteredPosition } from '../../settlement/metered-orders.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { clearBook, RULE_SET_VERSION } from '../../matching-engine/index.js';
import { MECHANISMS } from '../../core/config/schema.js';
import { fcParams } from '../helpers/fc.js';
import { toIso } from '../../core/interval.js';

const T0 = Date.parse('2026-06-01T04:15:00Z');

test('netting: one household importing and exporting in one interval gets one order for its net position', () => {
  const base = { zone: 'main', minSell: '0.0800', maxBuy: '0.3000', forwardSoldWh: 0, forwardBoughtWh: 0 };
  const orders = meteredOrders(T0, [
    { ...base, participant: 'h01', importWh: 300, exportWh: 400 },
    { ...base, participant: 'h02', importWh: 500, exportWh: 100 },
    { ...base, participant: 'h03', importWh: 200, exportWh: 200 },
  ]);
  assert.deepEqual(
    orders.map((o) => [o.participant, o.side, o.energyWh]),
    [
      ['h01', 'offer', 100],
      ['h02', 'bid', 400],
    ],
  );
});

const position = fc.record({
  participant: fc.constantFrom('h01', 'h02', 'h03', 'h04', 'h05'),
  zone: fc.constantFrom('main', 'north'),
  minSell: fc.constantFrom('0.0800', '0.1000', '0.1500'),
  maxBuy: fc.constantFrom('0.3000', '0.2000', '0.1200'),
  importWh: fc.integer({ min: 0, max: 5000 }),
  exportWh: fc.integer({ min: 0, max: 5000 }),
  forwardSoldWh: fc.integer({ min: 0, max: 500 }),
  forwardBoughtWh: fc.integer({ min: 0, max: 500 }),
});

test('no metered trade has buyer = seller, in every mechanism', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(position, { selector: (p) => p.participant, minLength: 1, maxLength: 5 }),
      fc.constantFrom(...MECHANISMS),
      (ps: MeteredPosition[], mechanism) => {
        const orders = meteredOrders(T0, ps);
        const sides = new Map<string, Set<string>>();
        for (const o of orders) sides.set(o.participant, (sides.get(o.participant) ?? new Set()).add(o.side));
        for (const [p, s] of sides) assert.equal(s.size, 1, `${p} has both a bid and an offer`);
        const r = clearBook(
          { interval: toIso(T0), kind: 'metered', orders },
          {
            mechanism,
            k: 0.5,
            priceTick: '0.0001',
            priceFloor: '0.0800',
            priceCap: '0.3000',
            zoneFees: [{ from: 'north', to: 'main', fee: '0.0100' }],
            zoneExportLimitsWh: {},
            ruleSetVersion: RULE_SET_VERSION,
          },
        );
        for (const t of r.trades) assert.notEqual(t.buyer, t.seller, `self-trade ${JSON.stringify(t)}`);
      },
    ),
    fcParams('no self-trade', { numRuns: 300 }),
  );
});

// The metered step builds its book straight into columns (clearMetered); the auditor re-runs clearBook on the stored
// orders. The stored orders and the result (as saveClearing stores it, canonical JSON) must be the same.
test('clearMetered stores the orders meteredOrders derives and clears them as clearBook does, in every mechanism', () => {
  const many = fc.record({
    participant: fc.integer({ min: 1, max: 400 }).map((i) => `h${String(i).padStart(3, '0')}`),
    zone: fc.constantFrom('main', 'north', 'south'),
    minSell: fc.integer({ min: 800, max: 1500 }).map((t) => (t / 10_000).toFixed(4)),
    maxBuy: fc.integer({ min: 1000, max: 3000 }).map((t) => (t / 10_000).toFixed(4)),
    importWh: fc.integer({ min: 0, max: 5000 }),
    exportWh: fc.integer({ min: 0, max: 5000 }),
    forwardSoldWh: fc.integer({ min: 0, max: 500 }),
    forwardBoughtWh: fc.integer({ min: 0, max: 500 }),
  });
  fc.assert(
    fc.property(
      fc.uniqueArray(many, { selector: (p) => p.participant, minLength: 0, maxLength: 120 }),
      fc.constantFrom(...MECHANISMS),
      (ps: MeteredPosition[], mechanism) => {
        const rules = {
          mechanism,
          k: 0.5,
          priceTick: '0.0001',
          priceFloor: '0.0800',
          priceCap: '0.3000',
          zoneFees: [{ from: 'north', to: 'main', fee: '0.0100' }],
          zoneExportLimitsWh: { south: 20_000 },
          ruleSetVersion: RULE_SET_VERSION,
        };
        const orders = meteredOrders(T0, ps);
        const got = clearMetered(T0, ps, rules);
        assert.deepEqual(got.orders, orders);
        const want = clearBook({ interval: toIso(T0), kind: 'metered', orders }, rules);
        assert.equal(canonicalJson(got.result), canonicalJson(want));
      },
    ),
    fcParams('clearMetered = clearBook', { numRuns: 200 }),
  );
});
