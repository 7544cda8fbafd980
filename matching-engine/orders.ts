import type { OrderInput } from '../core/market.js';
import { MicrogridError, invalid } from '../core/errors.js';
import { isId } from '../core/ids.js';
import { firstDuplicate, isIdFast } from './ids.js';
import { isDecimalString, type PriceTicks } from '../core/units.js';
import type { CompiledRules } from './rules.js';
import { parseTicks, tickFormat } from './ticks.js';
import { sortedZones } from './zones.js';

/**
 * The book as columns (struct of arrays): one typed-array slot per order, so
 * a million orders cost a few flat buffers instead of a million objects in
 * the hot path. Index i is the i-th order as given.
 */
export interface PackedOrders {
  n: number;
  /** 0 = bid, 1 = offer. */
  side: Uint8Array;
  qty: Float64Array;
  ticks: Int32Array;
  /** Index into `zones` (sorted by name, so the index order is the name order). */
  zone: Int32Array;
  seq: Float64Array;
  zones: string[];
  /** Ids and participants as flat arrays: the result builders read them in sorted (random) order, one load each. */
  ids: string[];
  participants: string[];
  /** Orders that name preferred partners: index → the partners' participant ids, unique, in name order. */
  partners?: Map<number, readonly string[]> | undefined;
  /**
   * Each order's participant as a number (same participant, same number, below
   * `parties`), when the packer already had it (OrderBook numbers them as orders
   * arrive): self-netting then needs no map of participant ids at gate closure.
   */
  party?: Int32Array | undefined;
  parties?: number | undefined;
  /** Counts the OrderBook kept as orders arrived, by `party` numbers. */
  tally?: BookTally | undefined;
}

/**
 * What gate closure would otherwise count in passes over the whole book, kept by the OrderBook (tally.ts) as orders arrive,
 * cancel and change (issue 16: the book is the product's book, and gate closure is the moment that has to be fast).
 * Each order's key in the one-zone total order and the orders and energy per key are the counting sort's first pass
 * (sort.ts); which participants have both a bid and an offer, and their bid energy, are self-netting's (self-net.ts).
 * Both read these only where they equal what the pass would compute: the sort when the book is cleared as one zone
 * with its energies as given, netting by the book's own participant numbers.
 */
export interface BookTally {
  /** Per order (indexed like the packed book): side × L + its price position, L = cap − floor + 1. */
  key: Int32Array;
  /** Orders and their energy per key (2L of each). */
  count: Int32Array;
  volume: Float64Array;
  /** Per participant number: 1 if it has a bid, 2 an offer, 3 both. */
  mask: Uint8Array;
  /** Per participant number: the energy of its bids, Wh. */
  bidWh: Float64Array;
}

/** A partners list as the engine uses it: unique ids in name order (the order given does not matter). */
export function partnerList(partners: readonly string[]): readonly string[] {
  return [...new Set(partners)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export const BID = 0;
export const OFFER = 1;

/** Where an order sits, for error messages: `orders[3]` and `order "b7"`. */
export interface OrderWhere {
  field: string;
  id?: unknown;
}

function fail(
  code: Parameters<typeof invalid>[0],
  where: OrderWhere,
  key: string,
  value: unknown,
  expected: string,
): MicrogridError {
  const who = typeof where.id === 'string' && where.id !== '' ? ` in order ${JSON.stringify(where.id)}` : '';
  return invalid(code, `${where.field}.${key}`, value, expected, `invalid value${who}`);
}

/**
 * Checks one order completely and throws the first problem, naming the order
 * and the field. The pack loop uses cheap checks and calls this only when one
 * fails, so every refusal carries the same precise message.
 */
export function checkOrder(o: unknown, where: OrderWhere, interval: string, cr: CompiledRules): PriceTicks {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw invalid(
      'INVALID_INPUT',
      where.field,
      o,
      'an order object { id, participant, side, interval, energyWh, price, zone, seq }',
    );
  }
  const r = o as Record<string, unknown>;
  const w: OrderWhere = { field: where.field, id: r.id };
  if (!isId(r.id)) throw fail('INVALID_ID', w, 'id', r.id, 'an order id: 1–64 letters, digits, ".", "_", ":" or "-"');
  if (!isId(r.participant)) throw fail('INVALID_ID', w, 'participant', r.participant, 'a participant id');
  if (r.side !== 'bid' && r.side !== 'offer') throw fail('INVALID_INPUT', w, 'side', r.side, '"bid" or "offer"');
  if (r.interval !== interval)
    throw fail('INTERVAL_NOT_OPEN', w, 'interval', r.interval, `the interval this book is open for, ${interval}`);
  if (typeof r.energyWh !== 'number' || !Number.isSafeInteger(r.energyWh) || r.energyWh <= 0) {
    throw fail('INVALID_ENERGY', w, 'energyWh', r.energyWh, 'a positive integer number of Wh');
  }
  if (!isDecimalString(r.price))
    throw fail('INVALID_PRICE', w, 'price', r.price, 'a decimal string such as "0.1250" (per kWh)');
  let ticks: PriceTicks;
  try {
    ticks = cr.scale.toTicks(r.price, `${where.field}.price`);
  } catch {
    throw fail('INVALID_PRICE', w, 'price', r.price, `a multiple of the price tick ${cr.scale.tick}`);
  }
  if (ticks < cr.floor || ticks > cr.cap) {
    throw fail(
      'PRICE_OUT_OF_RANGE',
      w,
      'price',
      r.price,
      `a price from the floor ${cr.rules.priceFloor} to the cap ${cr.rules.priceCap}`,
    );
  }
  if (!isId(r.zone)) throw fail('INVALID_ID', w, 'zone', r.zone, 'a zone id');
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 0)
    throw fail('INVALID_INPUT', w, 'seq', r.seq, 'a non-negative integer submission sequence');
  if (r.partners !== undefined && (!Array.isArray(r.partners) || !r.partners.every(isId))) {
    throw fail('INVALID_INPUT', w, 'partners', r.partners, 'a list of participant ids');
  }
  if (r.greenOnly !== undefined) {
    if (typeof r.greenOnly !== 'boolean') throw fail('INVALID_INPUT', w, 'greenOnly', r.greenOnly, 'true or false');
    if (r.greenOnly && r.side !== 'bid')
      throw fail('INVALID_INPUT', w, 'greenOnly', r.greenOnly, 'greenOnly only on bids');
  }
  return ticks;
}

/**
 * Validates every order and packs the book into columns. Refuses the whole
 * book on the first bad order (index and id in the message) and on a
 * duplicate id: ids are the last key of the total order, so they must be unique.
 */
export function packOrders(orders: readonly OrderInput[], interval: string, cr: CompiledRules): PackedOrders {
  if (!Array.isArray(orders)) throw invalid('INVALID_INPUT', 'orders', orders, 'a list of orders');
  const n = orders.length;
  const side = new Uint8Array(n);
  const qty = new Float64Array(n);
  const ticks = new Int32Array(n);
  const zone = new Int32Array(n);
  const seq = new Float64Array(n);
  // Prices and zones repeat: each distinct string is parsed once (exactly, by PriceScale).
  const priceCache = new Map<string, PriceTicks>();
  const zoneIdx = new Map<string, number>();
  const zoneNames: string[] = [];
  const ids: string[] = new Array(n);
  const participants: string[] = new Array(n);
  const fmt = tickFormat(cr.scale);
  const partners = new Map<number, readonly string[]>();
  let total = 0;
  for (let i = 0; i < n; i++) {
    const o = orders[i] as OrderInput;
    let t: PriceTicks | undefined;
    let z: number | undefined;
    const ok =
      typeof o === 'object' &&
      o !== null &&
      isIdFast(o.id) &&
      isIdFast(o.participant) &&
      (o.side === 'bid' || o.side === 'offer') &&
      o.interval === interval &&
      Number.isSafeInteger(o.energyWh) &&
      o.energyWh > 0 &&
      Number.isSafeInteger(o.seq) &&
      o.seq >= 0 &&
      (t = priceCache.get(o.price)) !== undefined &&
      (z = zoneIdx.get(o.zone)) !== undefined &&
      o.partners === undefined &&
      o.greenOnly === undefined;
    if (!ok) {
      // Slow path: first sight of a price or zone, optional fields, or a bad order.
      // A price string new to this book: the integer parser, checked against the range; else the full check.
      const fast = typeof o?.price === 'string' ? parseTicks(o.price, fmt) : undefined;
      if (
        fast !== undefined &&
        fast >= cr.floor &&
        fast <= cr.cap &&
        isIdFast(o.id) &&
        isIdFast(o.participant) &&
        isIdFast(o.zone) &&
        (o.side === 'bid' || o.side === 'offer') &&
        o.interval === interval &&
        Number.isSafeInteger(o.energyWh) &&
        o.energyWh > 0 &&
        Number.isSafeInteger(o.seq) &&
        o.seq >= 0 &&
        o.partners === undefined &&
        o.greenOnly === undefined
      )
        t = fast;
      else t = checkOrder(o, { field: `orders[${i}]` }, interval, cr);
      priceCache.set(o.price, t);
      if (o.partners !== undefined && o.partners.length > 0) partners.set(i, partnerList(o.partners));
      z = zoneIdx.get(o.zone);
      if (z === undefined) {
        z = zoneNames.length;
        zoneIdx.set(o.zone, z);
        zoneNames.push(o.zone);
      }
    }
    ids[i] = o.id;
    participants[i] = o.participant;
    total += o.energyWh;
    side[i] = o.side === 'bid' ? BID : OFFER;
    qty[i] = o.energyWh;
    ticks[i] = t as number;
    zone[i] = z as number;
    seq[i] = o.seq;
  }
  const dup = firstDuplicate(ids);
  if (dup >= 0) {
    throw new MicrogridError('ORDER_DUPLICATE', `duplicate order id ${JSON.stringify(ids[dup])}`, {
      field: `orders[${dup}].id`,
      value: ids[dup],
      expected: 'an order id not used by an earlier order of the book',
    });
  }
  if (!Number.isSafeInteger(total))
    throw invalid('INVALID_ENERGY', 'orders', total, 'a book whose total energy is a safe integer number of Wh');
  // Zone indices in name order, so nothing depends on which order came first.
  const { names, remap } = sortedZones(zoneNames);
  for (let i = 0; i < n; i++) zone[i] = remap[zone[i] as number] as number;
  return packedBook({ n, side, qty, ticks, zone, seq, zones: names, ids, participants, partners });
}

/**
 * `c` as the one PackedOrders literal, every field in one order (absent ones undefined). The engine's optimised code
 * checks its objects' hidden classes: V8 keeps the class of a literal alive through the literal's boilerplate (once
 * the function has feedback: warm-up.ts), but the class of a spread result, or of a literal with fields left out,
 * only while some object has it. After a full collection between clearings it was gone, every function that had
 * checked it was deoptimised, and the next clearing of a million orders ran unoptimised (issue 16). So the book's
 * columns are never spread; every PackedOrders comes from here.
 */
export function packedBook(c: PackedOrders): PackedOrders {
  return {
    n: c.n,
    side: c.side,
    qty: c.qty,
    ticks: c.ticks,
    zone: c.zone,
    seq: c.seq,
    zones: c.zones,
    ids: c.ids,
    participants: c.participants,
    partners: c.partners !== undefined && c.partners.size > 0 ? c.partners : undefined,
    party: c.party,
    parties: c.parties,
    tally: c.tally,
  };
}

/** The same book with other zone, qty or tally columns (see packedBook: never a spread). */
export function withColumns(
  p: PackedOrders,
  zone: Int32Array,
  zones: string[],
  qty: Float64Array,
  tally: BookTally | undefined,
): PackedOrders {
  const { n, side, ticks, seq, ids, participants, partners, party, parties } = p;
  return packedBook({ n, side, qty, ticks, zone, seq, zones, ids, participants, partners, party, parties, tally });
}
