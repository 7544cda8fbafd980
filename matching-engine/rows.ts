import type { OrderRemainder, Trade } from '../core/market.js';
import type { PriceString } from '../core/units.js';

/**
 * How the result's rows (Trade, OrderRemainder) are allocated, which decides whether V8 places them in the young or
 * the old generation (measured with a 10k book, 4,511 trades, and a 1M book; issue 16).
 *
 * An object literal has an allocation site that V8 pretenures once it sees the site's objects survive scavenges;
 * from then on every clearing's rows go straight to the old generation, freed only by full collections. The 4,511
 * trade objects of a 10k book took 0.31 ms a clearing so, 0.12 ms by a constructor (which V8 does not pretenure; the
 * same as --no-allocation-site-pretenuring). Those figures were taken while results were still kept alive by their
 * lazy lists (result.ts lazyList); since that fix both ways take ~0.09 ms, but whether the literal's site gets
 * pretenured still varied from run to run. So lists of fewer than LONG_LIVED rows are built by plain constructor
 * functions, whose prototype is Object.prototype: a row is a plain object to every reader (JSON, structured clone,
 * deepStrictEqual against a literal).
 *
 * A list of LONG_LIVED rows or more (~6 MB) does outlive the scavenges its building causes. Made young, each row is
 * copied once or twice on its way to the old generation, so these are built by a literal of their own, which V8 learns
 * to pretenure without the small lists' site learning it too: 1M remainders took 92–97 ms pretenured, 217–266 ms young.
 */
export const LONG_LIVED = 100_000;

interface TradeRowOf {
  new (
    buyOrder: string,
    sellOrder: string,
    buyer: string,
    seller: string,
    energyWh: number,
    price: PriceString,
    fee: PriceString,
  ): Trade;
}

export const TradeRow = function (
  this: Trade,
  buyOrder: string,
  sellOrder: string,
  buyer: string,
  seller: string,
  energyWh: number,
  price: PriceString,
  fee: PriceString,
) {
  this.buyOrder = buyOrder;
  this.sellOrder = sellOrder;
  this.buyer = buyer;
  this.seller = seller;
  this.energyWh = energyWh;
  this.price = price;
  this.fee = fee;
} as unknown as TradeRowOf;
TradeRow.prototype = Object.prototype;

export function longLivedTrade(
  buyOrder: string,
  sellOrder: string,
  buyer: string,
  seller: string,
  energyWh: number,
  price: PriceString,
  fee: PriceString,
): Trade {
  return { buyOrder, sellOrder, buyer, seller, energyWh, price, fee };
}

interface RemainderRowOf {
  new (order: string, participant: string, side: 'bid' | 'offer', filledWh: number, leftWh: number): OrderRemainder;
}

export const RemainderRow = function (
  this: OrderRemainder,
  order: string,
  participant: string,
  side: 'bid' | 'offer',
  filledWh: number,
  leftWh: number,
) {
  this.order = order;
  this.participant = participant;
  this.side = side;
  this.filledWh = filledWh;
  this.leftWh = leftWh;
} as unknown as RemainderRowOf;
RemainderRow.prototype = Object.prototype;

export function longLivedRemainder(
  order: string,
  participant: string,
  side: 'bid' | 'offer',
  filledWh: number,
  leftWh: number,
): OrderRemainder {
  return { order, participant, side, filledWh, leftWh };
}

/**
 * The last row of each shape built, kept until the next one replaces it. A row's hidden class comes from adding its
 * fields (a constructor, or nettedWh and buyerPrice added to some rows), and V8 keeps such a class only while some
 * object has it: after a full collection with no rows left it was freed, and tradeObjects was deoptimised before the
 * next clearing (see warm-up.ts). One row made in advance would not do: V8 shrinks the rows' size once it has seen a
 * few, and stores energies as doubles, so the class of later rows is not the first one's.
 */
const lastOfShape = new Map<string, object>();

export function keepShape(shape: string, row: object | undefined): void {
  if (row !== undefined) lastOfShape.set(shape, row);
}
