import type { OrderInput } from '../core/market.js';
import { toIso, toUnixSeconds } from '../core/interval.js';

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
  const interval = toIso(start);
  const unix = toUnixSeconds(start);
  const orders: OrderInput[] = [];
  let seq = 0;
  for (const p of positions) {
    const surplus = Math.max(0, p.exportWh - p.forwardSoldWh);
    const deficit = Math.max(0, p.importWh - p.forwardBoughtWh);
    const net = surplus - deficit;
    if (net > 0)
      orders.push({
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
      orders.push({
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
  return orders;
}
