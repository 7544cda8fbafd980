import type { OrderRemainder, Trade } from '../core/market.js';
import { f64, i32, u32 } from './scratch.js';
import { MicrogridError } from '../core/errors.js';
import { Dec, type PriceScale, type PriceString } from '../core/units.js';
import { BID, type PackedOrders } from './orders.js';
import { formatTicks, tickFormat } from './ticks.js';
import { LONG_LIVED, RemainderRow, TradeRow, longLivedRemainder, keepShape, longLivedTrade } from './rows.js';
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

/**
 * How a mechanism prices a trade: what the seller receives per kWh (ticks) —
 * its zone's price, one fixed price, the buyer's bid less the fee
 * (pay-as-bid) or the seller's offer (pay-as-offer) — and, for McAfee
 * reduction, what every buyer pays. Data, not a callback: the pairing loop
 * stays monomorphic and optimisable on a million trades.
 */
export type TradePricing = (
  { kind: 'zone'; seller: Int32Array } | { kind: 'fixed'; price: number } | { kind: 'bid' } | { kind: 'offer' }
) & {
  /** Fee ticks at sellerZone * Z + buyerZone. */
  fee: Int32Array;
  buyerPrice?: number;
};

const ZONE = 0;
const FIXED = 1;
const PAY_BID = 2;
const PAY_OFFER = 3;

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

/**
 * Writes trades into columns. A class rather than closures: its methods are
 * shared by every call, so V8 keeps the optimised pairing loop across
 * clearings instead of recompiling it for each call's fresh closures.
 */
const NO_TICKS = new Int32Array(0);

class TradeWriter {
  readonly buy: Uint32Array;
  readonly sell: Uint32Array;
  readonly wh: Float64Array;
  readonly price: Int32Array;
  readonly fee: Int32Array;
  t = 0;
  /** What each order (by position in the total order) has left to trade. */
  readonly left: Float64Array;
  readonly perm: Uint32Array;
  ticks: Int32Array;
  readonly mode: number;
  /** Seller price of the zone pair being paired (ZONE, FIXED), and its fee. */
  pairPrice = 0;
  pairFee = 0;
  /**
   * The last writer, kept until the next pairing, so V8 keeps the writers' hidden class through the full collections
   * between clearings and pairTrades keeps its optimised code (see warm-up.ts). It lets go of the book's prices.
   */
  static last: TradeWriter | undefined;

  constructor(capacity: number, left: Float64Array, perm: Uint32Array, ticks: Int32Array, mode: number) {
    // Working columns (scratch.ts) of the most trades there can be; the result gets copies of what was written.
    this.buy = u32('trades.buy', capacity);
    this.sell = u32('trades.sell', capacity);
    this.wh = f64('trades.wh', capacity);
    this.price = i32('trades.price', capacity);
    this.fee = i32('trades.fee', capacity);
    this.left = left;
    this.perm = perm;
    this.ticks = ticks;
    this.mode = mode;
  }

  /** A trade of `wh` between the bid at position jb and the offer at js of the total order. */
  emit(jb: number, js: number, wh: number): void {
    const buy = this.perm[jb]!;
    const sell = this.perm[js]!;
    const t = this.t++;
    this.buy[t] = buy;
    this.sell[t] = sell;
    this.wh[t] = wh;
    const m = this.mode;
    this.price[t] =
      m === PAY_BID ? this.ticks[buy]! - this.pairFee : m === PAY_OFFER ? this.ticks[sell]! : this.pairPrice;
    this.fee[t] = this.pairFee;
    this.left[jb]! -= wh;
    this.left[js]! -= wh;
  }
}

/**
 * `sortedFill[j]` is what order `perm[j]` fills: the cursors read it in
 * sequence. Pairing uses it up in place (it ends as what each order has left
 * to trade: zeros), which saves copying a million-entry column.
 */
export function pairTrades(
  p: PackedOrders,
  perm: Uint32Array,
  lv: Levels,
  sortedFill: Float64Array,
  flows: PairFlows,
  pricing: TradePricing,
): TradeColumns {
  const Z = p.zones.length;
  const mode =
    pricing.kind === 'zone' ? ZONE : pricing.kind === 'fixed' ? FIXED : pricing.kind === 'bid' ? PAY_BID : PAY_OFFER;
  // Each trade uses up a buyer or a seller (or both), except the last of a zone pair in each pass: at most n + 2·Z²
  // trades.
  const w = new TradeWriter(p.n + 2 * Z * Z, sortedFill, perm, p.ticks, mode);
  const left = w.left;
  // A cursor per zone and side over the zone's orders in the total order (a cursor leaves an order once it is used up).
  const pos = new Int32Array(2 * Z);
  const end = new Int32Array(2 * Z);
  for (let g = 0; g < 2 * Z; g++) {
    const s = lv.groupStart[g]!;
    const e = lv.groupEnd[g]!;
    pos[g] = s < e ? lv.start[s]! : 0;
    end[g] = s < e ? lv.end[e - 1]! : 0;
  }
  const partners = p.partners !== undefined && p.partners.size > 0 ? new PartnerIndex(p, perm, lv, left) : undefined;
  for (let a = 0; a < Z; a++) {
    for (let b = 0; b < Z; b++) {
      let A = flows.amount(a, b);
      if (A === 0) continue;
      w.pairFee = pricing.fee[a * Z + b]!;
      w.pairPrice = pricing.kind === 'zone' ? pricing.seller[a]! : pricing.kind === 'fixed' ? pricing.price : 0;
      const gs = Z + a; // offers of zone a
      const gb = b; // bids of zone b
      if (partners) A = partners.pair(gb, gs, A, w);
      let js = pos[gs]!;
      let jb = pos[gb]!;
      while (A > 0) {
        while (js < end[gs]! && left[js] === 0) js++;
        while (jb < end[gb]! && left[jb] === 0) jb++;
        if (js >= end[gs]! || jb >= end[gb]!)
          throw new MicrogridError('INTERNAL', "pairing: a zone flow exceeds the zone's fills");
        const wh = Math.min(A, left[js]!, left[jb]!);
        w.emit(jb, js, wh);
        A -= wh;
      }
      pos[gs] = js;
      pos[gb] = jb;
    }
  }
  const t = w.t;
  w.ticks = NO_TICKS;
  TradeWriter.last = w;
  const cols: TradeColumns = {
    n: t,
    buy: w.buy.slice(0, t),
    sell: w.sell.slice(0, t),
    wh: w.wh.slice(0, t),
    price: w.price.slice(0, t),
    fee: w.fee.slice(0, t),
  };
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
class PartnerIndex {
  /** Per (side, zone) group: the positions of orders that name partners, in the total order. */
  readonly #naming: number[][];
  /** Per group: each participant's filled positions, in the total order. */
  readonly #byParticipant: Map<string, number[]>[];
  readonly #p: PackedOrders;
  readonly #perm: Uint32Array;
  readonly #left: Float64Array;

  constructor(p: PackedOrders, perm: Uint32Array, lv: Levels, left: Float64Array) {
    const Z = p.zones.length;
    this.#p = p;
    this.#perm = perm;
    this.#left = left;
    this.#naming = Array.from({ length: 2 * Z }, () => []);
    this.#byParticipant = Array.from({ length: 2 * Z }, () => new Map());
    for (let g = 0; g < 2 * Z; g++) {
      if (lv.groupStart[g]! >= lv.groupEnd[g]!) continue;
      for (let j = lv.start[lv.groupStart[g]!]!; j < lv.end[lv.groupEnd[g]! - 1]!; j++) {
        if (left[j] === 0) continue;
        const i = perm[j]!;
        if (p.partners!.has(i)) this.#naming[g]!.push(j);
        const who = p.participants[i]!;
        let list = this.#byParticipant[g]!.get(who);
        if (!list) this.#byParticipant[g]!.set(who, (list = []));
        list.push(j);
      }
    }
  }

  /** Partner trades between bids of group gb and offers of group gs, up to A Wh; returns what is left of A. */
  pair(gb: number, gs: number, A: number, w: TradeWriter): number {
    A = this.#take(gb, gs, A, w, true);
    return A === 0 ? 0 : this.#take(gs, gb, A, w, false);
  }

  #take(from: number, to: number, A: number, w: TradeWriter, fromBids: boolean): number {
    const left = this.#left;
    for (const j of this.#naming[from]!) {
      partners: for (const who of this.#p.partners!.get(this.#perm[j]!)!) {
        for (const k of this.#byParticipant[to]!.get(who) ?? []) {
          if (left[j] === 0) break partners;
          const wh = Math.min(A, left[j]!, left[k]!);
          if (wh === 0) continue;
          if (fromBids) w.emit(j, k, wh);
          else w.emit(k, j, wh);
          A -= wh;
          if (A === 0) return 0;
        }
      }
    }
    return A;
  }
}

export function noTrades(): TradeColumns {
  return {
    n: 0,
    buy: new Uint32Array(0),
    sell: new Uint32Array(0),
    wh: new Float64Array(0),
    price: new Int32Array(0),
    fee: new Int32Array(0),
  };
}

/** The trades as `Trade` objects, in column order. */
export function tradeObjects(p: PackedOrders, c: TradeColumns, scale: PriceScale): Trade[] {
  const str = priceStrings(scale);
  const ids = p.ids;
  const parts = p.participants;
  const out: Trade[] = new Array(c.n);
  const big = c.n >= LONG_LIVED;
  // Trades come in runs of one price and one fee (a zone pair's): the last string of each is reused, not looked up
  // in the memo again (two map lookups per trade were a third of this loop).
  let priceTicks = NaN;
  let price = '' as PriceString;
  let feeTicks = NaN;
  let fee = '' as PriceString;
  // One object shape per loop: a loop that builds either of two shapes is several times slower in V8 (issue 16).
  // Small lists by constructor, long ones by a literal: see rows.ts.
  for (let t = 0; t < c.n; t++) {
    const buy = c.buy[t]!;
    const sell = c.sell[t]!;
    const pt = c.price[t]!;
    if (pt !== priceTicks) price = str((priceTicks = pt));
    const ft = c.fee[t]!;
    if (ft !== feeTicks) fee = str((feeTicks = ft));
    out[t] = big
      ? longLivedTrade(ids[buy]!, ids[sell]!, parts[buy]!, parts[sell]!, c.wh[t]!, price, fee)
      : new TradeRow(ids[buy]!, ids[sell]!, parts[buy]!, parts[sell]!, c.wh[t]!, price, fee);
  }
  if (c.buyerPrice !== undefined) {
    const buyerPrice = str(c.buyerPrice);
    for (let t = 0; t < c.n; t++) out[t]!.buyerPrice = buyerPrice;
  }
  keepShape(big ? 'trade.long' : 'trade', out[0]);
  return out;
}

/**
 * What each order filled, netted against its participant's own orders (self-net.ts) and has left, in submission order
 * (seq, then id).
 */
export function remainders(
  p: PackedOrders,
  perm: Uint32Array,
  fill: Float64Array,
  netted?: Float64Array,
): OrderRemainder[] {
  const out: OrderRemainder[] = new Array(p.n);
  const ids = p.ids;
  const parts = p.participants;
  const big = p.n >= LONG_LIVED;
  let plainRow: OrderRemainder | undefined;
  let nettedRow: OrderRemainder | undefined;
  for (let j = 0; j < p.n; j++) {
    const q = perm[j]!;
    const f = fill[q]!;
    const x = netted ? netted[q]! : 0;
    const side = p.side[q] === BID ? 'bid' : 'offer';
    const r = big
      ? longLivedRemainder(ids[q]!, parts[q]!, side, f, p.qty[q]! - f - x)
      : new RemainderRow(ids[q]!, parts[q]!, side, f, p.qty[q]! - f - x);
    // Only when it netted, so a book without self-crossing orders gives the same result, byte for byte, as before.
    if (x > 0) {
      r.nettedWh = x;
      nettedRow = r;
    } else plainRow = r;
    out[j] = r;
  }
  keepShape(big ? 'remainder.long' : 'remainder', plainRow);
  keepShape(big ? 'remainder.long.netted' : 'remainder.netted', nettedRow);
  return out;
}

/**
 * Defines `obj[key]` as an enumerable property built on first read and then
 * kept (the accessor replaces itself with a plain writable value), so a
 * result nobody lists costs no objects, and every reader sees the same list.
 *
 * The accessor's functions are one pair per key, shared by every result; what to build sits beside it under a
 * symbol (not enumerable, so JSON, spread, structured clone and deepEqual do not see it). With a fresh getter per
 * result, results nobody held any more still survived young-generation collections (V8 keeps what it learns of each
 * new accessor in shared structures; we did not find exactly which): every clearing's trade objects were copied and
 * promoted. 3,000 clearings of a 10k book promoted 1.5 GB and spent 2.2 s in scavenges so; with shared accessors,
 * 10 MB and 0.1 s (--trace-gc-nvp).
 */
export function lazyList<T extends object, K extends keyof T & string>(obj: T, key: K, build: () => T[K]): void {
  const o = obj as T & { [PENDING]?: Record<string, (() => unknown) | undefined> };
  let pending = o[PENDING];
  if (pending === undefined) {
    pending = {};
    Object.defineProperty(o, PENDING, { value: pending, enumerable: false, writable: false, configurable: true });
  }
  pending[key] = build;
  Object.defineProperty(obj, key, lazyAccessor(key));
}

const PENDING = Symbol('lists not built yet');
const accessors = new Map<string, PropertyDescriptor>();

function lazyAccessor(key: string): PropertyDescriptor {
  let d = accessors.get(key);
  if (d === undefined) {
    const keep = (obj: object, value: unknown): void => {
      const pending = (obj as { [PENDING]?: Record<string, unknown> })[PENDING];
      if (pending !== undefined) pending[key] = undefined; // its closure holds the clearing's columns
      Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
    };
    d = {
      enumerable: true,
      configurable: true,
      get(this: object): unknown {
        const value = (this as { [PENDING]: Record<string, () => unknown> })[PENDING][key]!();
        keep(this, value);
        return value;
      },
      set(this: object, value: unknown): void {
        keep(this, value);
      },
    };
    accessors.set(key, d);
  }
  return d;
}

const priceMemos = new WeakMap<PriceScale, (ticks: number) => PriceString>();

/**
 * A memo of tick → decimal string: a book has few distinct prices. One per scale (a book's rules keep theirs), kept
 * from one clearing to the next: the strings depend on nothing else, and there are as many as the distinct tick values
 * of the prices and fees cleared (a few thousand at most).
 */
export function priceStrings(scale: PriceScale): (ticks: number) => PriceString {
  let str = priceMemos.get(scale);
  if (str === undefined) {
    const memo = new Map<number, PriceString>();
    const fmt = tickFormat(scale);
    str = (t) => {
      let s = memo.get(t);
      if (s === undefined) memo.set(t, (s = formatTicks(t, fmt) || scale.toString(t)));
      return s;
    };
    priceMemos.set(scale, str);
  }
  return str;
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
  return new Dec(v.toString())
    .mul(scale.tick)
    .div(1000)
    .toFixed(scale.decimals + 3);
}

/**
 * Surplus Σ bid·Wh − Σ offer·Wh − Σ fee·Wh over the given fills, in tick·Wh. The fills are summed per side and
 * price first (exact: a book's total energy is a safe integer), so the exact sum of products runs over price levels,
 * not orders.
 */
export function surplusTickWh(
  p: PackedOrders,
  fill: Float64Array,
  flows: PairFlows,
  fee: Int32Array,
  floor: number,
  cap: number,
): bigint {
  const L = cap - floor + 1;
  const wh = new Float64Array(2 * L);
  for (let i = 0; i < p.n; i++) {
    const f = fill[i]!;
    if (f !== 0) wh[p.side[i]! * L + p.ticks[i]! - floor]! += f;
  }
  const s = new TickWhSum();
  for (let t = 0; t < L; t++) {
    if (wh[t] !== 0) s.add(wh[t]!, t + floor);
    if (wh[L + t] !== 0) s.add(wh[L + t]!, -(t + floor));
  }
  subtractFees(s, p.zones.length, flows, fee);
  return s.value;
}

/**
 * The same sum when the fills are the efficient allocation's (every order of a level at the level's price, the level's
 * fill shared among them): over price levels, without reading the orders.
 */
export function surplusOfLevels(
  lv: Levels,
  levelFill: Float64Array,
  Z: number,
  flows: PairFlows,
  fee: Int32Array,
): bigint {
  const s = new TickWhSum();
  for (let l = 0; l < lv.count; l++) {
    const f = levelFill[l]!;
    if (f !== 0) s.add(f, lv.side[l] === BID ? lv.ticks[l]! : -lv.ticks[l]!);
  }
  subtractFees(s, Z, flows, fee);
  return s.value;
}

function subtractFees(s: TickWhSum, Z: number, flows: PairFlows, fee: Int32Array): void {
  for (let a = 0; a < Z; a++) for (let b = 0; b < Z; b++) s.add(flows.amount(a, b), -fee[a * Z + b]!);
}
