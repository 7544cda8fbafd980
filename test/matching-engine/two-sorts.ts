import type { ClearingKind, ClearingResult } from '../../core/market.js';
import { BID, type PackedOrders } from '../../matching-engine/orders.js';
import type { CompiledRules } from '../../matching-engine/rules.js';
import { sortBook } from '../../matching-engine/sort.js';
import { solveFlow, type Network } from '../../matching-engine/flow.js';
import { allocateOrders } from '../../matching-engine/allocate.js';
import { networkOf, type Allocation } from '../../matching-engine/efficient.js';
import { clearUniform } from '../../matching-engine/mechanisms/uniform.js';
import { clearPayAs } from '../../matching-engine/mechanisms/pay-as.js';
import { clearMcAfee } from '../../matching-engine/mechanisms/mcafee.js';
import {
  lazyList,
  priceStrings,
  remainders,
  TickWhSum,
  type PairFlows,
  tickWhToMoney,
  tradeObjects,
} from '../../matching-engine/result.js';

/**
 * The engine's clearing as it was before the book was sorted once (issue 16), kept as the oracle the one-sort path
 * is checked against: self-netting sorts the book, nets, and builds a second packed book of what is left, which the
 * auction packs, sorts and clears again from scratch. Slow and plain on purpose.
 */
interface SelfNetting {
  market: PackedOrders;
  index: Uint32Array;
  netted: Float64Array;
  bySeq: Uint32Array;
}

/** Null when no participant has a bid and an offer that could trade with each other (the book is cleared as it is). */
function netSelfOrdersTwoSorts(p: PackedOrders, cr: CompiledRules): SelfNetting | null {
  const n = p.n;
  // 1. Which participants have both sides: numbered by the book as orders came (OrderBook), else here by a
  // map of participant ids (a million distinct ids cost a few hundred ms, so the book's numbers are used when given).
  let pid: Int32Array;
  let P: number;
  if (p.party !== undefined && p.parties !== undefined) {
    pid = p.party;
    P = p.parties;
  } else {
    const pidOf = new Map<string, number>();
    pid = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const name = p.participants[i]!;
      let k = pidOf.get(name);
      if (k === undefined) {
        k = pidOf.size;
        pidOf.set(name, k);
      }
      pid[i] = k;
    }
    P = pidOf.size;
  }
  const mask = new Uint8Array(P);
  let both = false;
  for (let i = 0; i < n; i++) {
    const k = pid[i]!;
    const m = mask[k]! | (p.side[i] === BID ? 1 : 2);
    mask[k] = m;
    if (m === 3) both = true;
  }
  if (!both) return null;

  // 2. Each such participant's orders in the total order: bids by zone then from the highest price,
  // offers by zone then from the lowest, each price by seq then id (sort.ts). When every zone pair has
  // the same fee, zones change nothing here: the orders are sorted as one zone, one run per side.
  const Z = p.zones.length;
  const fee = new Int32Array(Z * Z);
  for (let a = 0; a < Z; a++) for (let b = 0; b < Z; b++) fee[a * Z + b] = cr.fee(p.zones[a]!, p.zones[b]!);
  const oneZone = fee.every((f) => f === fee[0]);
  const zoneOf = oneZone ? new Int32Array(n) : p.zone;
  const sorted = sortBook(oneZone ? { ...p, zone: zoneOf, zones: ['*'] } : p, cr.floor, cr.cap);
  // A counting sort of the total order by participant (stable): each participant's orders in one run, bids first.
  const start = new Int32Array(P + 1);
  for (let i = 0; i < n; i++) if (mask[pid[i]!] === 3) start[pid[i]! + 1]!++;
  for (let k = 0; k < P; k++) start[k + 1]! += start[k]!;
  const at = start.slice(0, P);
  // Each run's prices and energies beside it, so netting reads memory in sequence (a million random reads cost more
  // than the rest).
  const m0 = start[P]!;
  const mine = new Uint32Array(m0);
  const mTicks = new Int32Array(m0);
  const mQty = new Float64Array(m0);
  const lv = sorted.levels;
  // Level by level: a level's price is one value, its orders' energies are in sequence (sorted.qty).
  for (let l = 0; l < lv.count; l++) {
    const t = lv.ticks[l]!;
    for (let j = lv.start[l]!, e = lv.end[l]!; j < e; j++) {
      const i = sorted.perm[j]!;
      const k = pid[i]!;
      if (mask[k] !== 3) continue;
      const d = at[k]!++;
      mine[d] = i;
      mTicks[d] = t;
      mQty[d] = sorted.qty[j]!;
    }
  }
  const mLeft = mQty.slice();

  // 3. Net, per participant and zone pair, highest bid against lowest offer while they could trade.
  let any = false;
  for (let k = 0; k < P; k++) {
    if (mask[k] !== 3) continue;
    const s0 = start[k]!;
    const e0 = start[k + 1]!;
    let split = s0;
    while (split < e0 && p.side[mine[split]!] === BID) split++;
    for (const [bs, be] of zoneRuns(mine, s0, split, zoneOf)) {
      for (const [os, oe] of zoneRuns(mine, split, e0, zoneOf)) {
        const f = fee[p.zone[mine[os]!]! * Z + p.zone[mine[bs]!]!]!;
        if (netRun(bs, be, os, oe, f, mTicks, mLeft)) any = true;
      }
    }
  }
  const left = p.qty.slice();
  const netted = new Float64Array(n);
  for (let d = 0; d < m0; d++) {
    if (mLeft[d] === mQty[d]) continue;
    const i = mine[d]!;
    netted[i] = mQty[d]! - mLeft[d]!;
    left[i] = mLeft[d]!;
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

/**
 * Nets bids [bs, be) (highest first) against offers [os, oe) (lowest first) while bid ≥ offer + fee, in place on
 * `left`; true if any.
 */
function netRun(
  bs: number,
  be: number,
  os: number,
  oe: number,
  fee: number,
  ticks: Int32Array,
  left: Float64Array,
): boolean {
  let jb = bs;
  let jo = os;
  let any = false;
  while (jb < be && jo < oe) {
    // An order used up (by an earlier zone pair, or just now).
    if (left[jb] === 0) {
      jb++;
      continue;
    }
    if (left[jo] === 0) {
      jo++;
      continue;
    }
    if (ticks[jb]! < ticks[jo]! + fee) break;
    const wh = Math.min(left[jb]!, left[jo]!);
    left[jb]! -= wh;
    left[jo]! -= wh;
    any = true;
  }
  return any;
}

/** Runs [start, end) of one zone in list[from, to), which is sorted by zone. */
function zoneRuns(list: Uint32Array, from: number, to: number, zone: Int32Array): [number, number][] {
  const runs: [number, number][] = [];
  for (let s = from; s < to;) {
    let e = s + 1;
    while (e < to && zone[list[e]!] === zone[list[s]!]) e++;
    runs.push([s, e]);
    s = e;
  }
  return runs;
}

function collapseZones(packed: PackedOrders, net: Network): { packed: PackedOrders; net: Network } | undefined {
  const Z = net.zones;
  if (Z <= 1) return undefined;
  const fee0 = net.fee[0]!;
  if (!net.fee.every((f) => f === fee0)) return undefined;
  const offered = new Float64Array(Z);
  for (let i = 0; i < packed.n; i++) if (packed.side[i] === 1) offered[packed.zone[i]!]! += packed.qty[i]!;
  for (let z = 0; z < Z; z++) if (net.limit[z]! < offered[z]!) return undefined;
  return {
    packed: { ...packed, zone: new Int32Array(packed.n), zones: ['*'] },
    net: { zones: 1, fee: Int32Array.of(fee0), limit: Float64Array.of(Infinity) },
  };
}

function allocationTwoSorts(packed0: PackedOrders, cr: CompiledRules): Allocation {
  const net0 = networkOf(packed0, cr);
  const { packed, net } = collapseZones(packed0, net0) ?? { packed: packed0, net: net0 };
  const sorted = sortBook(packed, cr.floor, cr.cap);
  const flow = solveFlow(sorted.levels, net);
  const fill = new Float64Array(packed.n);
  const sortedFill = new Float64Array(packed.n);
  allocateOrders(sorted.perm, sorted.levels, flow.levelFill, sorted.qty, fill, sortedFill);
  return {
    packed,
    sorted,
    net,
    flow,
    fill,
    sortedFill,
    zones: packed0.zones,
    collapsed: packed !== packed0,
    netted: null,
  };
}

/** clearPacked as it was: the same result fields, built from the two-sort allocation. */
export function clearTwoSorts(
  packed: PackedOrders,
  interval: string,
  kind: ClearingKind,
  cr: CompiledRules,
): ClearingResult {
  const rules = cr.rules;
  const self = netSelfOrdersTwoSorts(packed, cr);
  const book = self?.market ?? packed;
  const alloc = allocationTwoSorts(book, cr);
  const out =
    rules.mechanism === 'uniform'
      ? clearUniform(alloc, cr)
      : rules.mechanism === 'mcafee'
        ? clearMcAfee(alloc, cr)
        : clearPayAs(rules.mechanism === 'pay-as-bid' ? 'bid' : 'offer', alloc, cr);
  const str = priceStrings(cr.scale);
  const result = {
    interval,
    kind,
    rules: {
      mechanism: rules.mechanism,
      k: rules.k,
      priceTick: rules.priceTick,
      priceFloor: rules.priceFloor,
      priceCap: rules.priceCap,
      zoneFees: rules.zoneFees.map((f) => ({ from: f.from, to: f.to, fee: f.fee })),
      zoneExportLimitsWh: { ...rules.zoneExportLimitsWh },
      ruleSetVersion: rules.ruleSetVersion,
    },
    clearingPrice: out.clearingPrice === null ? null : str(out.clearingPrice),
    matchedWh: out.matchedWh,
    surplus: tickWhToMoney(surplusTickWh(alloc.packed, out.fill, out.flows, alloc.net.fee), cr.scale),
  } as ClearingResult;
  lazyList(result, 'trades', () => tradeObjects(book, out.trades, cr.scale));
  if (self) {
    lazyList(result, 'remainders', () => {
      const fill = new Float64Array(packed.n);
      for (let t = 0; t < book.n; t++) fill[self.index[t]!] = out.fill[t]!;
      return remainders(packed, self.bySeq, fill, self.netted);
    });
  } else lazyList(result, 'remainders', () => remainders(packed, out.perm, out.fill));
  if (out.zonePrices) {
    const zp = out.zonePrices;
    result.zonePrices = alloc.zones.map((zone, z) => {
      const v = alloc.collapsed ? 0 : z;
      return { zone, sellerPrice: str(zp.seller[v]!), buyerPrice: str(zp.buyer[v]!) };
    });
  }
  if (out.operatorSurplus !== undefined) result.operatorSurplus = tickWhToMoney(out.operatorSurplus, cr.scale);
  if (out.mcafee !== undefined) result.mcafee = out.mcafee;
  return result;
}

/** The surplus as it was summed: one exact product per filled order. */
function surplusTickWh(p: PackedOrders, fill: Float64Array, flows: PairFlows, fee: Int32Array): bigint {
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
