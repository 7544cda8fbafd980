import type { OrderRemainder, Trade } from '../core/market.js';
import { MicrogridError } from '../core/errors.js';
import { Dec, type PriceScale, type PriceString } from '../core/units.js';
import { BID, type PackedOrders } from './orders.js';
import { formatTicks, tickFormat } from './ticks.js';
import type { Levels } from './sort.js';

/**
 * Pairs filled buyers with filled sellers into trades. Zone pairs go in name
 * order (seller zone, then buyer zone) and each carries exactly the energy the
 * clearing flow sent along it; within a zone, orders are taken in the total
 * order (price priority, seq, id). Any pairing inside a zone pair respects
 * every limit (the prices guarantee it), so this one is chosen for being
 * deterministic and giving at most (buyers + sellers − 1) trades per pair.
 */
export interface PairFlows {
  /** Energy sold from zone a to zone b, at a * Z + b (a = b: within the zone). */
  amount(a: number, b: number): number;
}

/** How a mechanism prices a trade: the seller's price per kWh (ticks), and for McAfee reduction the buyer's. */
export interface TradePricing {
  price(buy: number, sell: number, sellerZone: number, buyerZone: number): number;
  /** Fee ticks at sellerZone * Z + buyerZone. */
  fee: Int32Array;
  buyerPrice?: number;
}

/**
 * The trades of a clearing as columns: one slot per trade, order indices
 * into the packed book and integer ticks. A million-order book makes ~700 000
 * trades; building them as objects costs more than the whole clearing, so the
 * result keeps them as columns and turns them into `Trade` objects only when
 * someone reads `result.trades` (see `materialise`).
 */
export interface TradeColumns {
  n: number;
  buy: Uint32Array;
  sell: Uint32Array;
  wh: Float64Array;
  /** Seller price per kWh, ticks. */
  price: Int32Array;
  /** Fee per kWh, ticks. */
  fee: Int32Array;
  /** McAfee reduction: what every buyer pays per kWh, fee included (ticks). */
  buyerPrice?: number;
}

/** `sortedFill[j]` is what order `perm[j]` fills: the cursors read it in sequence. */
export function pairTrades(p: PackedOrders, perm: Uint32Array, lv: Levels, sortedFill: Float64Array, flows: PairFlows, pricing: TradePricing): TradeColumns {
  const Z = p.zones.length;
  // What each order (by position in the total order) has left to trade; partner trades and the cursors both draw on it.
  const left = sortedFill.slice();
  // A cursor per zone and side over the zone's orders in the total order.
  const pos = new Int32Array(2 * Z);
  const end = new Int32Array(2 * Z);
  for (let g = 0; g < 2 * Z; g++) {
    const s = lv.groupStart[g]!;
    const e = lv.groupEnd[g]!;
    pos[g] = s < e ? lv.start[s]! : 0;
    end[g] = s < e ? lv.end[e - 1]! : 0;
  }
  // Move a cursor to its next order with energy left (a cursor leaves an order once it is used up).
  const next = (g: number): number => {
    let j = pos[g]!;
    for (;;) {
      if (j >= end[g]!) throw new MicrogridError('INTERNAL', 'pairing: a zone flow exceeds the zone\'s fills');
      if (left[j] !== 0) break;
      j++;
    }
    pos[g] = j;
    return j;
  };
  // Each trade uses up a buyer or a seller (or both), except the last of a zone pair in each pass: at most n + 2·Z² trades.
  const cap = p.n + 2 * Z * Z;
  const buyCol = new Uint32Array(cap);
  const sellCol = new Uint32Array(cap);
  const whCol = new Float64Array(cap);
  const priceCol = new Int32Array(cap);
  const feeCol = new Int32Array(cap);
  let t = 0;
  const emit = (jb: number, js: number, wh: number, a: number, b: number, fee: number): void => {
    const buy = perm[jb]!;
    const sell = perm[js]!;
    buyCol[t] = buy;
    sellCol[t] = sell;
    whCol[t] = wh;
    priceCol[t] = pricing.price(buy, sell, a, b);
    feeCol[t] = fee;
    t++;
    left[jb]! -= wh;
    left[js]! -= wh;
  };
  const partners = p.partners !== undefined && p.partners.size > 0 ? partnerIndex(p, perm, lv, left) : undefined;
  for (let a = 0; a < Z; a++) {
    for (let b = 0; b < Z; b++) {
      let A = flows.amount(a, b);
      const fee = pricing.fee[a * Z + b]!;
      const gs = Z + a; // offers of zone a
      const gb = b; // bids of zone b
      if (partners && A > 0) {
        A = partners.pair(gb, gs, A, (jb, js, wh) => emit(jb, js, wh, a, b, fee));
      }
      while (A > 0) {
        const js = next(gs);
        const jb = next(gb);
        const wh = Math.min(A, left[js]!, left[jb]!);
        emit(jb, js, wh, a, b, fee);
        A -= wh;
      }
    }
  }
  const cols: TradeColumns = { n: t, buy: buyCol.slice(0, t), sell: sellCol.slice(0, t), wh: whCol.slice(0, t), price: priceCol.slice(0, t), fee: feeCol.slice(0, t) };
  if (pricing.buyerPrice !== undefined) cols.buyerPrice = pricing.buyerPrice;
  return cols;
}

/**
 * Preferred partners. Within a zone pair any pairing keeps every limit (the
 * prices guarantee it), so partners change who trades with whom, never how
 * much anyone fills or at what price. Before the cursors pair a zone pair,
 * partner trades go first: each bid with partners (in the total order) takes
 * from its partners' offers (partners in name order, each partner's offers in
 * the total order), then each offer with partners from its partners' bids,
 * as far as the zone pair's flow allows. Zone pairs are paired in name order,
 * so an offer used up by an earlier zone pair is not there for a later one.
 */
function partnerIndex(p: PackedOrders, perm: Uint32Array, lv: Levels, left: Float64Array) {
  const Z = p.zones.length;
  // Per (side, zone) group: the positions of orders that name partners, and each participant's filled positions.
  const naming: number[][] = Array.from({ length: 2 * Z }, () => []);
  const byParticipant: Map<string, number[]>[] = Array.from({ length: 2 * Z }, () => new Map());
  for (let g = 0; g < 2 * Z; g++) {
    if (lv.groupStart[g]! >= lv.groupEnd[g]!) continue;
    for (let j = lv.start[lv.groupStart[g]!]!; j < lv.end[lv.groupEnd[g]! - 1]!; j++) {
      if (left[j] === 0) continue;
      const i = perm[j]!;
      if (p.partners!.has(i)) naming[g]!.push(j);
      const who = p.participants[i]!;
      let list = byParticipant[g]!.get(who);
      if (!list) byParticipant[g]!.set(who, (list = []));
      list.push(j);
    }
  }
  const take = (from: number, g: number, A: number, emit: (j: number, k: number, wh: number) => void): number => {
    for (const j of naming[from]!) {
      partners: for (const who of p.partners!.get(perm[j]!)!) {
        for (const k of byParticipant[g]!.get(who) ?? []) {
          if (left[j] === 0) break partners;
          const wh = Math.min(A, left[j]!, left[k]!);
          if (wh === 0) continue;
          emit(j, k, wh);
          A -= wh;
          if (A === 0) return 0;
        }
      }
    }
    return A;
  };
  return {
    /** Partner trades between bids of group gb and offers of group gs, up to A Wh; returns what is left of A. */
    pair(gb: number, gs: number, A: number, emit: (jb: number, js: number, wh: number) => void): number {
      A = take(gb, gs, A, (jb, js, wh) => emit(jb, js, wh));
      return take(gs, gb, A, (js, jb, wh) => emit(jb, js, wh));
    },
  };
}

export function noTrades(): TradeColumns {
  return { n: 0, buy: new Uint32Array(0), sell: new Uint32Array(0), wh: new Float64Array(0), price: new Int32Array(0), fee: new Int32Array(0) };
}

/** The trades as `Trade` objects, in column order. */
export function tradeObjects(p: PackedOrders, c: TradeColumns, scale: PriceScale): Trade[] {
  const str = priceStrings(scale);
  const ids = p.ids;
  const parts = p.participants;
  const buyerPrice = c.buyerPrice === undefined ? undefined : str(c.buyerPrice);
  const out: Trade[] = new Array(c.n);
  for (let t = 0; t < c.n; t++) {
    const buy = c.buy[t]!;
    const sell = c.sell[t]!;
    const price = str(c.price[t]!);
    const fee = str(c.fee[t]!);
    out[t] =
      buyerPrice === undefined
        ? { buyOrder: ids[buy]!, sellOrder: ids[sell]!, buyer: parts[buy]!, seller: parts[sell]!, energyWh: c.wh[t]!, price, fee }
        : { buyOrder: ids[buy]!, sellOrder: ids[sell]!, buyer: parts[buy]!, seller: parts[sell]!, energyWh: c.wh[t]!, price, fee, buyerPrice };
  }
  return out;
}

/** What each order filled and has left, in submission order (seq, then id). */
export function remainders(p: PackedOrders, perm: Uint32Array, fill: Float64Array): OrderRemainder[] {
  const out: OrderRemainder[] = new Array(p.n);
  const ids = p.ids;
  const parts = p.participants;
  for (let j = 0; j < p.n; j++) {
    const q = perm[j]!;
    const f = fill[q]!;
    out[j] = { order: ids[q]!, participant: parts[q]!, side: p.side[q] === BID ? 'bid' : 'offer', filledWh: f, leftWh: p.qty[q]! - f };
  }
  return out;
}

/**
 * Defines `obj[key]` as an enumerable property built on first read and then
 * kept (the accessor replaces itself with a plain writable value), so a
 * result nobody lists costs no objects, and every reader sees the same list.
 */
export function lazyList<T extends object, K extends keyof T & string>(obj: T, key: K, build: () => T[K]): void {
  Object.defineProperty(obj, key, {
    enumerable: true,
    configurable: true,
    get(): T[K] {
      const value = build();
      Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
      return value;
    },
    set(value: T[K]): void {
      Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
    },
  });
}

/** A memo of tick → decimal string: a book has few distinct prices. */
export function priceStrings(scale: PriceScale): (ticks: number) => PriceString {
  const memo = new Map<number, PriceString>();
  const fmt = tickFormat(scale);
  return (t) => {
    let s = memo.get(t);
    if (s === undefined) memo.set(t, (s = formatTicks(t, fmt) || scale.toString(t)));
    return s;
  };
}

/** An exact integer sum of (Wh × ticks) products, kept in Numbers until they could round. */
export class TickWhSum {
  #big = 0n;
  #small = 0;
  add(wh: number, ticks: number): void {
    const x = wh * ticks;
    if (!Number.isSafeInteger(x) || Math.abs(this.#small) > 2 ** 52 - Math.abs(x)) {
      this.#big += BigInt(this.#small) + BigInt(wh) * BigInt(ticks);
      this.#small = 0;
    } else this.#small += x;
  }
  get value(): bigint {
    return this.#big + BigInt(this.#small);
  }
}

/** Tick·Wh → currency: Wh × ticks × tick / 1000, as an exact decimal string. */
export function tickWhToMoney(v: bigint, scale: PriceScale): string {
  return new Dec(v.toString()).mul(scale.tick).div(1000).toFixed(scale.decimals + 3);
}

/** Surplus Σ bid·Wh − Σ offer·Wh − Σ fee·Wh over the given fills, in tick·Wh. */
export function surplusTickWh(p: PackedOrders, fill: Float64Array, flows: PairFlows, fee: Int32Array): bigint {
  const s = new TickWhSum();
  for (let i = 0; i < p.n; i++) {
    const f = fill[i]!;
    if (f === 0) continue;
    s.add(f, p.side[i] === BID ? p.ticks[i]! : -p.ticks[i]!);
  }
  const Z = p.zones.length;
  for (let a = 0; a < Z; a++) for (let b = 0; b < Z; b++) s.add(flows.amount(a, b), -fee[a * Z + b]!);
  return s.value;
}
