import { Dec } from '../core/units.js';
import type { Decimal } from 'decimal.js';

/**
 * Rounds a set of exact amounts to the currency's minor unit so that they sum
 * to `target` exactly (largest remainder, ties by key): each rounded amount
 * is within one minor unit of its exact value, and the interval balances to
 * the cent. `target` is normally the rounded exact sum.
 */
export function apportion(
  exact: ReadonlyMap<string, Decimal>,
  target: Decimal,
  minorUnits: number,
): Map<string, Decimal> {
  const unit = new Dec(1).div(new Dec(10).pow(minorUnits));
  const rows = [...exact].map(([key, v]) => {
    const floor = v.toDecimalPlaces(minorUnits, Dec.ROUND_FLOOR);
    return { key, floor, rem: v.minus(floor) };
  });
  let diff = target
    .minus(rows.reduce((s, r) => s.plus(r.floor), new Dec(0)))
    .div(unit)
    .round()
    .toNumber();
  const out = new Map(rows.map((r) => [r.key, r.floor]));
  if (diff > 0) {
    const order = rows.slice().sort((a, b) => b.rem.comparedTo(a.rem) || (a.key < b.key ? -1 : 1));
    for (let i = 0; diff > 0 && order.length; i = (i + 1) % order.length, diff--)
      out.set(order[i]!.key, out.get(order[i]!.key)!.plus(unit));
  } else if (diff < 0) {
    const order = rows.slice().sort((a, b) => a.rem.comparedTo(b.rem) || (a.key < b.key ? -1 : 1));
    for (let i = 0; diff < 0 && order.length; i = (i + 1) % order.length, diff++)
      out.set(order[i]!.key, out.get(order[i]!.key)!.minus(unit));
  }
  return out;
}

export function sumDec(values: Iterable<Decimal>): Decimal {
  let s = new Dec(0);
  for (const v of values) s = s.plus(v);
  return s;
}
