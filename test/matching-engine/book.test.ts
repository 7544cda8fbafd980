import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OrderBook } from '../../matching-engine/book.js';
import { clearBook } from '../../matching-engine/clear.js';
import { isIdFast } from '../../matching-engine/ids.js';
import { isId } from '../../core/ids.js';
import { MicrogridError, type MicrogridError as ME } from '../../core/errors.js';
import type { ErrorCode } from '../../core/error-codes.js';
import type { OrderInput } from '../../core/market.js';
import { fcParams } from '../helpers/fc.js';
import { I, order as o, rules } from './helpers.js';

function refused(fn: () => unknown, code: ErrorCode, field: string): ME {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof MicrogridError, `expected a MicrogridError ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.field, field, err.message);
  return err;
}

const snapshot = (b: OrderBook): string => JSON.stringify(b.orders());

test('the book adds, cancels and replaces until gate closure, then refuses every change with GATE_CLOSED', () => {
  const b = new OrderBook(I, rules());
  b.add(o('b1', 'bid', 100, '0.2000', 1));
  b.add(o('s1', 'offer', 100, '0.1000', 2));
  b.add(o('s2', 'offer', 50, '0.1200', 3));
  b.replace('b1', { ...o('b1', 'bid', 150, '0.2500', 4) });
  assert.equal(b.cancel('s2').id, 's2');
  assert.deepEqual(
    b.orders().map((x) => [x.id, x.energyWh, x.price]),
    [
      ['b1', 150, '0.2500'],
      ['s1', 100, '0.1000'],
    ],
  );
  b.closeGate();
  const before = snapshot(b);
  refused(() => b.add(o('b9', 'bid', 1, '0.2000', 9)), 'GATE_CLOSED', 'interval');
  refused(() => b.cancel('b1'), 'GATE_CLOSED', 'interval');
  refused(() => b.replace('b1', o('b1', 'bid', 1, '0.2000', 9)), 'GATE_CLOSED', 'interval');
  assert.equal(snapshot(b), before);
  const r = b.clear();
  assert.equal(r.matchedWh, 100);
  assert.deepEqual(
    r.trades.map((t) => [t.buyOrder, t.sellOrder, t.energyWh, t.price]),
    [['b1', 's1', 100, '0.2500']],
  ); // b1 is cut (100 of 150 Wh): its price clears
});

test('each bad order is refused with its own code naming the field, and the book does not change', () => {
  const b = new OrderBook(I, rules());
  b.add(o('b1', 'bid', 100, '0.2000', 1));
  const before = snapshot(b);
  const bad = (patch: Partial<Record<keyof OrderInput, unknown>>): OrderInput =>
    ({ ...o('x1', 'bid', 100, '0.2000', 5), ...patch }) as OrderInput;
  refused(() => b.add(o('b1', 'offer', 5, '0.1000', 2)), 'ORDER_DUPLICATE', 'order.id');
  refused(() => b.add(bad({ energyWh: 0 })), 'INVALID_ENERGY', 'order.energyWh');
  refused(() => b.add(bad({ energyWh: -5 })), 'INVALID_ENERGY', 'order.energyWh');
  refused(() => b.add(bad({ energyWh: 1.5 })), 'INVALID_ENERGY', 'order.energyWh');
  refused(() => b.add(bad({ energyWh: '100' })), 'INVALID_ENERGY', 'order.energyWh');
  refused(() => b.add(bad({ price: 'abc' })), 'INVALID_PRICE', 'order.price');
  refused(() => b.add(bad({ price: 0.2 })), 'INVALID_PRICE', 'order.price');
  refused(() => b.add(bad({ price: '1e-1' })), 'INVALID_PRICE', 'order.price');
  refused(() => b.add(bad({ price: '0.20005' })), 'INVALID_PRICE', 'order.price'); // off the 0.0001 grid
  const low = refused(() => b.add(bad({ price: '0.0799' })), 'PRICE_OUT_OF_RANGE', 'order.price');
  assert.match(low.message, /0\.0800.*0\.3000/);
  refused(() => b.add(bad({ price: '0.3001' })), 'PRICE_OUT_OF_RANGE', 'order.price');
  refused(() => b.add(bad({ interval: '2026-11-21T20:15:00Z' })), 'INTERVAL_NOT_OPEN', 'order.interval');
  refused(() => b.add(bad({ side: 'buy' })), 'INVALID_INPUT', 'order.side');
  refused(() => b.add(bad({ id: 'bad id' })), 'INVALID_ID', 'order.id');
  refused(() => b.add(bad({ participant: '' })), 'INVALID_ID', 'order.participant');
  refused(() => b.add(bad({ zone: 'north/1' })), 'INVALID_ID', 'order.zone');
  refused(() => b.add(bad({ seq: -1 })), 'INVALID_INPUT', 'order.seq');
  refused(() => b.add(bad({ partners: ['ok', 'not ok'] })), 'INVALID_INPUT', 'order.partners');
  refused(() => b.add({ ...o('x2', 'offer', 1, '0.1000', 1), greenOnly: true }), 'INVALID_INPUT', 'order.greenOnly');
  refused(() => b.replace('nope', o('nope', 'bid', 1, '0.2000', 1)), 'NOT_FOUND', 'order.id');
  refused(() => b.replace('b1', bad({ id: 'b1', energyWh: 0 })), 'INVALID_ENERGY', 'order.energyWh');
  refused(() => b.replace('b1', o('b2', 'bid', 1, '0.2000', 1)), 'INVALID_INPUT', 'order.id');
  refused(() => b.cancel('nope'), 'NOT_FOUND', 'order.id');
  assert.equal(snapshot(b), before);
  // The message names the order and the field.
  const e = refused(() => b.add(bad({ id: 'x7', energyWh: 0 })), 'INVALID_ENERGY', 'order.energyWh');
  assert.match(e.message, /order\.energyWh.*"x7".*got 0.*positive integer/);
});

test("the book keeps its own copy: mutating the caller's object later changes nothing", () => {
  const b = new OrderBook(I, rules());
  const x = o('b1', 'bid', 100, '0.2000', 1);
  b.add(x);
  x.energyWh = 999;
  assert.equal(b.get('b1')?.energyWh, 100);
});

test('clearBook names the order by index and id; duplicates in a book file are refused', () => {
  const orders = [
    o('b1', 'bid', 100, '0.2000', 1),
    o('s1', 'offer', 100, '0.1000', 2),
    { ...o('s2', 'offer', 100, '0.1000', 3), energyWh: -1 },
  ];
  const e = refused(() => clearBook({ interval: I, orders }, rules()), 'INVALID_ENERGY', 'orders[2].energyWh');
  assert.match(e.message, /"s2"/);
  refused(
    () =>
      clearBook({ interval: I, orders: [o('b1', 'bid', 1, '0.2000', 1), o('b1', 'offer', 1, '0.1000', 2)] }, rules()),
    'ORDER_DUPLICATE',
    'orders[1].id',
  );
  refused(
    () => clearBook({ interval: I, orders: [o('b1', 'bid', 1, '0.2000', 1)] }, rules('uniform', { k: 2 })),
    'INVALID_INPUT',
    'rules.k',
  );
  refused(
    () => clearBook({ interval: I, orders: [] }, rules('uniform', { priceCap: '0.0500' })),
    'INVALID_PRICE',
    'rules.priceCap',
  );
  refused(
    () => clearBook({ interval: I, orders: [] }, { ...rules(), ruleSetVersion: 'other' }),
    'INVALID_INPUT',
    'rules.ruleSetVersion',
  );
  refused(() => clearBook({ interval: 'yesterday', orders: [] }, rules()), 'INVALID_TIME', 'interval');
});

test('the fast id check agrees with core/ids isId', () => {
  const chars = fc.constantFrom(...'aZ09._:- /é'.split(''));
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: chars, maxLength: 70 }), fc.string({ maxLength: 66 })), (s) => {
      assert.equal(isIdFast(s), isId(s));
    }),
    fcParams('isIdFast = isId', { numRuns: 2000 }),
  );
  for (const v of [undefined, null, 5, 'a'.repeat(64), 'a'.repeat(65)]) assert.equal(isIdFast(v), isId(v));
});

test('rulesFromConfig maps market.* to ClearingRules (feed-in tariff = floor, retail tariff = cap)', async () => {
  const { validateConfig } = await import('../../core/config/validate.js');
  const { rulesFromConfig, RULE_SET_VERSION } = await import('../../matching-engine/rules.js');
  const cfg = validateConfig({
    market: {
      mechanism: 'mcafee',
      k: 0.25,
      feedInTariff: '0.0700',
      retailTariff: '0.3500',
      zoneFees: [{ from: 'a', to: 'b', fee: '0.0100' }],
      zoneExportLimitsWh: { a: 5000 },
    },
  });
  assert.deepEqual(rulesFromConfig(cfg.market), {
    mechanism: 'mcafee',
    k: 0.25,
    priceTick: '0.0001',
    priceFloor: '0.0700',
    priceCap: '0.3500',
    zoneFees: [{ from: 'a', to: 'b', fee: '0.0100' }],
    zoneExportLimitsWh: { a: 5000 },
    ruleSetVersion: RULE_SET_VERSION,
  });
});
