import type { ClearingResult, ClearingRules, OrderInput } from '../core/market.js';
import { toIso, toUnixSeconds } from '../core/interval.js';
import { OrderBook } from '../matching-engine/index.js';

/**
 * The orders of metered clearing (DESIGN.md "Two ways to trade"). A
 * participant's import and export in one interval are netted first: what it
 * exported beyond its forward sales, less what it imported beyond its forward
 * purchases, is one offer (positive) or one bid (negative), never both. So
 * nobody trades with themselves: the part of its export it consumed itself
 * is neither offered nor bought back (its statements bill the net position).
 * Only participants whose grid meters are all `actual` get orders.
 */

export interface MeteredPosition {
  participant: string;
  zone: string;
  minSell: string;
  maxBuy: string;
  importWh: number;
  exportWh: number;
  forwardSoldWh: number;
  forwardBoughtWh: number;
}

export function meteredOrders(start: number, positions: readonly MeteredPosition[]): OrderInput[] {
  const orders: OrderInput[] = [];
  forEachMeteredOrder(start, positions, (o) => orders.push(o));
  return orders;
}

/**
 * Metered clearing of the positions: each order goes into the interval's OrderBook (validated and packed into its
 * columns) as it is derived, and the book is cleared, so no list is validated and packed again at the end as
 * clearBook would. Returns the orders too, in meteredOrders' order: they are stored with the result, for the
 * auditor's re-run (clearBook on the stored orders), which gives the same result.
 */
export function clearMetered(
  start: number,
  positions: readonly MeteredPosition[],
  rules: ClearingRules,
): { orders: OrderInput[]; result: ClearingResult } {
  const book = new OrderBook(toIso(start), rules);
  const orders: OrderInput[] = [];
  forEachMeteredOrder(start, positions, (o) => {
    book.add(o);
    orders.push(o);
  });
  return { orders, result: book.clear('metered') };
}

/** Derives the metered orders of the positions one by one, in order, handing each to `take`. */
function forEachMeteredOrder(
  start: number,
  positions: readonly MeteredPosition[],
  take: (o: OrderInput) => void,
): void {
  const interval = toIso(start);
  const unix = toUnixSeconds(start);
  let seq = 0;
  for (const p of positions) {
    const surplus = Math.max(0, p.exportWh - p.forwardSoldWh);
    const deficit = Math.max(0, p.importWh - p.forwardBoughtWh);
    const net = surplus - deficit;
    if (net > 0)
      take({
        id: `m:${unix}:${p.participant}:offer`,
        participant: p.participant,
        side: 'offer',
        interval,
        energyWh: net,
        price: p.minSell,
        zone: p.zone,
        seq: seq++,
      });
    if (net < 0)
      take({
        id: `m:${unix}:${p.participant}:bid`,
        participant: p.participant,
        side: 'bid',
        interval,
        energyWh: -net,
        price: p.maxBuy,
        zone: p.zone,
        seq: seq++,
      });
  }
}
