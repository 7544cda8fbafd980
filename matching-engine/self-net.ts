import { BID, type PackedOrders } from './orders.js';
import type { CompiledRules } from './rules.js';
import { sortBook } from './sort.js';

/**
 * Nobody trades with themselves (decision, issue 12): before the auction, a
 * participant's own bids and offers that could trade with each other — bid ≥
 * offer + the fee from the offer's zone to the bid's — are netted: the
 * energy is the participant's own, neither traded nor left to the grid. The
 * market then clears what is left, so every trade has buyer ≠ seller in every
 * mechanism (a trade always has bid ≥ offer + fee, and no such pair of one
 * participant is left).
 *
 * Netting goes in price priority, as the auction would: the participant's
 * highest bid against its lowest offer, ties by submission sequence then id,
 * zone pairs in name order. Its effect on the price: the netted energy leaves
 * both curves at prices where they overlap, so the clearing price is that
 * of the others' orders with what the participant still wants net (its
 * surplus is counted on the netted book). Skipping self-pairs in the pairing
 * step was not chosen: fills are fixed before pairing, and a participant
 * whose bid and offer are the only ones filled can be paired with nobody else.
 */
export interface SelfNetting {
  /** The book the auction clears: the orders with energy left, in input order. */
  market: PackedOrders;
  /** Market index → input index. */
  index: Uint32Array;
  /** Energy each input order netted against its participant's own orders, by input index. */
  netted: Float64Array;
  /** Input indices by (seq, id), the order remainders are listed in. */
  bySeq: Uint32Array;
}

/** Null when no participant has a bid and an offer that could trade with each other (the book is cleared as it is). */
export function netSelfOrders(p: PackedOrders, cr: CompiledRules): SelfNetting | null {
  const n = p.n;
  // 1. Which participants have both sides: one map lookup per order, nothing more when none has.
  const pidOf = new Map<string, number>();
  const pid = new Int32Array(n);
  const mask: number[] = [];
  let both = false;
  for (let i = 0; i < n; i++) {
    const name = p.participants[i]!;
    let k = pidOf.get(name);
    if (k === undefined) {
      k = mask.length;
      pidOf.set(name, k);
      mask.push(0);
    }
    pid[i] = k;
    const m = mask[k]! | (p.side[i] === BID ? 1 : 2);
    mask[k] = m;
    if (m === 3) both = true;
  }
  if (!both) return null;

  // 2. Each such participant's orders in the total order: bids by zone then from the highest price,
  // offers by zone then from the lowest, each price by seq then id (sort.ts).
  const sorted = sortBook(p, cr.floor, cr.cap);
  const bids = new Map<number, number[]>();
  const offers = new Map<number, number[]>();
  for (let j = 0; j < n; j++) {
    const i = sorted.perm[j]!;
    const k = pid[i]!;
    if (mask[k] !== 3) continue;
    const to = p.side[i] === BID ? bids : offers;
    let list = to.get(k);
    if (!list) to.set(k, (list = []));
    list.push(i);
  }

  // 3. Net, per participant and zone pair, highest bid against lowest offer while they could trade.
  const Z = p.zones.length;
  const fee = new Int32Array(Z * Z);
  for (let a = 0; a < Z; a++) for (let b = 0; b < Z; b++) fee[a * Z + b] = cr.fee(p.zones[a]!, p.zones[b]!);
  const left = Float64Array.from(p.qty);
  const netted = new Float64Array(n);
  let any = false;
  for (const [k, bl] of bids) {
    const ol = offers.get(k)!;
    for (const [bs, be] of zoneRuns(bl, p.zone)) {
      for (const [os, oe] of zoneRuns(ol, p.zone)) {
        const f = fee[p.zone[ol[os]!]! * Z + p.zone[bl[bs]!]!]!;
        let jb = bs;
        let jo = os;
        while (jb < be && jo < oe) {
          const b = bl[jb]!;
          const o = ol[jo]!;
          if (left[b] === 0) {
            jb++;
            continue;
          }
          if (left[o] === 0) {
            jo++;
            continue;
          }
          if (p.ticks[b]! < p.ticks[o]! + f) break;
          const wh = Math.min(left[b]!, left[o]!);
          left[b]! -= wh;
          left[o]! -= wh;
          netted[b]! += wh;
          netted[o]! += wh;
          any = true;
        }
      }
    }
  }
  if (!any) return null;

  // 4. The market book: what is left, in input order (seq and ids unchanged, so the auction's ties are the same).
  let m = 0;
  for (let i = 0; i < n; i++) if (left[i]! > 0) m++;
  const index = new Uint32Array(m);
  const market: PackedOrders = {
    n: m,
    side: new Uint8Array(m),
    qty: new Float64Array(m),
    ticks: new Int32Array(m),
    zone: new Int32Array(m),
    seq: new Float64Array(m),
    zones: p.zones,
    ids: new Array<string>(m),
    participants: new Array<string>(m),
  };
  const partners = p.partners ? new Map<number, readonly string[]>() : undefined;
  for (let i = 0, t = 0; i < n; i++) {
    if (left[i] === 0) continue;
    index[t] = i;
    market.side[t] = p.side[i]!;
    market.qty[t] = left[i]!;
    market.ticks[t] = p.ticks[i]!;
    market.zone[t] = p.zone[i]!;
    market.seq[t] = p.seq[i]!;
    market.ids[t] = p.ids[i]!;
    market.participants[t] = p.participants[i]!;
    const pl = p.partners?.get(i);
    if (pl) partners!.set(t, pl);
    t++;
  }
  if (partners && partners.size > 0) market.partners = partners;
  return { market, index, netted, bySeq: sorted.bySeq };
}

/** Runs [start, end) of one zone in a list sorted by zone. */
function zoneRuns(list: readonly number[], zone: Int32Array): [number, number][] {
  const runs: [number, number][] = [];
  for (let s = 0; s < list.length; ) {
    let e = s + 1;
    while (e < list.length && zone[list[e]!] === zone[list[s]!]) e++;
    runs.push([s, e]);
    s = e;
  }
  return runs;
}
