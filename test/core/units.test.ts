import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PriceScale, assertWh, isDecimalString, roundMoney, formatMoney, Dec } from '../../core/units.js';
import { MicrogridError } from '../../core/errors.js';
import { fcParams } from '../helpers/fc.js';

const scale = new PriceScale('0.0001');

test('prices convert between decimal strings and integer ticks exactly', () => {
  assert.equal(scale.toTicks('0.1250'), 1250);
  assert.equal(scale.toTicks('0.125'), 1250);
  assert.equal(scale.toTicks('3'), 30000);
  assert.equal(scale.toTicks('-0.0100'), -100);
  assert.equal(scale.toString(1250), '0.1250');
  assert.equal(scale.toString(0), '0.0000');
});

test('prices that are not decimals, or off the tick grid, are refused with the field named', () => {
  for (const bad of ['abc', '1e-3', ' 0.1', '0.1 ', '.5', '01.5', '', '0x10', 0.125, null, undefined]) {
    assert.throws(
      () => scale.toTicks(bad, 'orders[3].price'),
      (e: unknown) =>
        e instanceof MicrogridError && e.code === 'INVALID_PRICE' && e.message.includes('orders[3].price'),
    );
  }
  assert.throws(() => scale.toTicks('0.12345', 'price'), /multiple of the price tick 0.0001/);
});

test('a bad price tick is refused', () => {
  assert.throws(
    () => new PriceScale('0'),
    (e: unknown) => e instanceof MicrogridError && e.code === 'INVALID_PRICE',
  );
  assert.throws(() => new PriceScale('abc'), /market.priceTick/);
});

test('energy must be a positive safe integer of Wh', () => {
  assert.equal(assertWh(5, 'e'), 5);
  assert.equal(assertWh(0, 'e', { allowZero: true }), 0);
  for (const bad of [0, -1, 1.5, NaN, Infinity, '5', 2 ** 53]) {
    assert.throws(
      () => assertWh(bad, 'energyWh'),
      (e: unknown) => e instanceof MicrogridError && e.code === 'INVALID_ENERGY' && /energyWh/.test(e.message),
    );
  }
});

test('money is Wh × price / 1000, exact, rounded half-even only on request', () => {
  assert.equal(scale.amount(1500, 1250).toString(), '0.1875');
  assert.equal(formatMoney(roundMoney(scale.amount(1500, 1250), 2), 2), '0.19');
  assert.equal(roundMoney(new Dec('0.125'), 2).toString(), '0.12');
  assert.equal(roundMoney(new Dec('0.135'), 2).toString(), '0.14');
});

test('property: ticks → string → ticks is the identity', () => {
  fc.assert(
    fc.property(fc.integer({ min: -1e9, max: 1e9 }), (t) => scale.toTicks(scale.toString(t)) === t),
    fcParams('price round trip'),
  );
});

test('isDecimalString accepts plain decimals only', () => {
  assert.ok(isDecimalString('0.1250'));
  assert.ok(isDecimalString('-2'));
  assert.ok(!isDecimalString('1e5'));
  assert.ok(!isDecimalString('+1'));
});
