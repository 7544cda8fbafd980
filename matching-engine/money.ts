import type { ClearingResult } from '../core/market.js';
import { Dec, PriceScale, type Dec as Decimal } from '../core/units.js';

/**
 * The money of a clearing, per trade with decimal.js (Wh × price / 1000,
 * exact, never rounded here: rounding to the currency's minor unit happens
 * on statements). Kept out of the clearing itself because a million-order
 * book does not need half a million Decimals to decide who trades.
 */
export interface IntervalMoney {
  /** Σ what buyers pay (price + fee, or McAfee's buyer price). */
  buyersPay: string;
  /** Σ what sellers receive. */
  sellersReceive: string;
  /** Σ grid fees. */
  fees: string;
  /** Σ kept by the market operator (McAfee trade reduction only; otherwise 0). */
  operator: string;
}

export function tradeMoney(
  scale: PriceScale,
  t: ClearingResult['trades'][number],
): { buyerPays: Decimal; sellerReceives: Decimal; fee: Decimal } {
  const price = scale.toTicks(t.price, 'price');
  const fee = scale.toTicks(t.fee, 'fee');
  const buyerTicks = t.buyerPrice === undefined ? price + fee : scale.toTicks(t.buyerPrice, 'buyerPrice');
  return {
    buyerPays: scale.amount(t.energyWh, buyerTicks),
    sellerReceives: scale.amount(t.energyWh, price),
    fee: scale.amount(t.energyWh, fee),
  };
}

export function intervalMoney(result: ClearingResult): IntervalMoney {
  const scale = new PriceScale(result.rules.priceTick);
  let buyers = new Dec(0);
  let sellers = new Dec(0);
  let fees = new Dec(0);
  for (const t of result.trades) {
    const m = tradeMoney(scale, t);
    buyers = buyers.plus(m.buyerPays);
    sellers = sellers.plus(m.sellerReceives);
    fees = fees.plus(m.fee);
  }
  const dp = scale.decimals + 3;
  return {
    buyersPay: buyers.toFixed(dp),
    sellersReceive: sellers.toFixed(dp),
    fees: fees.toFixed(dp),
    operator: buyers.minus(sellers).minus(fees).toFixed(dp),
  };
}
