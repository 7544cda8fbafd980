import type { Allocation } from '../efficient.js';
import type { CompiledRules } from '../rules.js';
import { BID, type PackedOrders } from '../orders.js';
import { roundK } from '../prices.js';
import { noTrades, pairTrades, TickWhSum } from '../result.js';
import { solveFlow } from '../flow.js';
import { allocateOrders } from '../allocate.js';
import type { Levels } from '../sort.js';
import { pairFlowsOf, type Outcome } from './outcome.js';

/**
 * McAfee (1992) trade reduction, for orders with volumes.
 *
 * Start from the efficient allocation. Let b_q be the lowest filled bid price
 * and s_q the highest filled offer price, b_{q+1} the highest bid price with
 * energy left and s_{q+1} the lowest offer price with energy left. When both
 * exist, p0 = (b_{q+1} + s_{q+1}) / 2 (rounded to the nearest tick, halves
 * down). If every trade of the efficient allocation is within its limits at
 * p0 (offer ≤ p0 and p0 + fee ≤ bid; in one zone without fees that is
 * McAfee's s_q ≤ p0 ≤ b_q), everything trades at p0.
 *
 * Otherwise the last crossing pair is dropped: the marginal bid order (lowest
 * price, then latest seq, then largest id) and the marginal offer order
 * leave the market. The remaining filled orders trade, up to what they filled
 * in the efficient allocation: buyers pay b_q per kWh (fee included), sellers
 * receive s_q; a zone pair trades only if b_q ≥ s_q + fee. Rationing within a
 * zone is pro rata by that energy (the odd Wh in the total order) — independent
 * of the prices reported, which keeps the price truthful. Every buyer's price
 * b_q ≤ its bid and every seller's s_q ≥ its offer; the operator keeps
 * (b_q − s_q − fee) per kWh ≥ 0, so the mechanism never runs a deficit.
 */
export function clearMcAfee(a: Allocation, _cr: CompiledRules): Outcome {
  const { packed: p, sorted, net, flow, fill } = a;
  const Z = net.zones;
  const flows = pairFlowsOf(flow, Z);
  if (flow.matchedWh === 0)
    return { trades: noTrades(), fill, perm: sorted.bySeq, flows, matchedWh: 0, clearingPrice: null };

  let bq = Infinity;
  let sq = -Infinity;
  let bNext = -Infinity;
  let sNext = Infinity;
  const netted = a.netted;
  const maxFilledOffer = new Float64Array(Z).fill(-Infinity);
  const minFilledBid = new Float64Array(Z).fill(Infinity);
  for (let i = 0; i < p.n; i++) {
    const t = p.ticks[i]!;
    const z = p.zone[i]!;
    if (p.side[i] === BID) {
      if (fill[i]! > 0) {
        bq = Math.min(bq, t);
        minFilledBid[z] = Math.min(minFilledBid[z]!, t);
      }
      if (fill[i]! < p.qty[i]! - (netted === null ? 0 : netted[i]!)) bNext = Math.max(bNext, t);
    } else {
      if (fill[i]! > 0) {
        sq = Math.max(sq, t);
        maxFilledOffer[z] = Math.max(maxFilledOffer[z]!, t);
      }
      if (fill[i]! < p.qty[i]! - (netted === null ? 0 : netted[i]!)) sNext = Math.min(sNext, t);
    }
  }

  if (bNext !== -Infinity && sNext !== Infinity) {
    const p0 = roundK(Math.min(bNext, sNext), Math.max(bNext, sNext), '0.5');
    let ok = true;
    for (let za = 0; za < Z; za++) {
      for (let zb = 0; zb < Z; zb++) {
        if (flows.amount(za, zb) > 0 && (maxFilledOffer[za]! > p0 || p0 + net.fee[za * Z + zb]! > minFilledBid[zb]!))
          ok = false;
      }
    }
    if (ok) {
      const trades = pairTrades(p, sorted.perm, sorted.levels, a.sortedFill, flows, {
        kind: 'fixed',
        price: p0,
        fee: net.fee,
      });
      return {
        trades,
        fill,
        perm: sorted.bySeq,
        flows,
        matchedWh: flow.matchedWh,
        clearingPrice: p0,
        mcafee: 'single-price',
      };
    }
  }

  // Trade reduction.
  const bStar = marginal(p, fill, BID, bq);
  const sStar = marginal(p, fill, 1, sq);
  const cap = new Float64Array(p.n);
  for (let i = 0; i < p.n; i++) if (i !== bStar && i !== sStar) cap[i] = fill[i]!;
  const { perm, levels } = reducedBook(p, sorted.perm, cap, bq, sq);
  const flow2 = solveFlow(levels, net);
  const fill2 = new Float64Array(p.n);
  const sortedCap = new Float64Array(perm.length);
  for (let j = 0; j < perm.length; j++) sortedCap[j] = cap[perm[j]!]!;
  const sortedFill2 = new Float64Array(perm.length);
  allocateOrders(perm, levels, flow2.levelFill, sortedCap, fill2, sortedFill2);
  const flows2 = pairFlowsOf(flow2, Z);
  const trades = pairTrades(p, perm, levels, sortedFill2, flows2, {
    kind: 'fixed',
    price: sq,
    fee: net.fee,
    buyerPrice: bq,
  });
  const op = new TickWhSum();
  for (let za = 0; za < Z; za++)
    for (let zb = 0; zb < Z; zb++) op.add(flows2.amount(za, zb), bq - sq - net.fee[za * Z + zb]!);
  return {
    trades,
    fill: fill2,
    perm: sorted.bySeq,
    flows: flows2,
    matchedWh: flow2.matchedWh,
    clearingPrice: null,
    operatorSurplus: op.value,
    mcafee: 'reduced',
  };
}

/** The filled order of `side` at `ticks` that comes last in the total order (latest seq, then largest id). */
function marginal(p: PackedOrders, fill: Float64Array, side: number, ticks: number): number {
  let best = -1;
  for (let i = 0; i < p.n; i++) {
    if (p.side[i] !== side || fill[i] === 0 || p.ticks[i] !== ticks) continue;
    if (best < 0 || later(p, i, best)) best = i;
  }
  return best;
}

function later(p: PackedOrders, i: number, j: number): boolean {
  if (p.seq[i] !== p.seq[j]) return p.seq[i]! > p.seq[j]!;
  return p.ids[i]! > p.ids[j]!;
}

/**
 * One level per zone and side: every remaining order at b_q (bids) or s_q
 * (offers), kept in the total order, which is grouped by side and zone.
 */
function reducedBook(
  p: PackedOrders,
  order: Uint32Array,
  cap: Float64Array,
  bq: number,
  sq: number,
): { perm: Uint32Array; levels: Levels } {
  const Z = p.zones.length;
  const perm = new Uint32Array(p.n);
  const groupOf = (i: number): number => p.side[i]! * Z + p.zone[i]!;
  let m = 0;
  for (let j = 0; j < order.length; j++) if (cap[order[j]!]! > 0) perm[m++] = order[j]!;
  let count = 0;
  for (let j = 0; j < m; j++) if (j === 0 || groupOf(perm[j]!) !== groupOf(perm[j - 1]!)) count++;
  const lv: Levels = {
    count,
    start: new Int32Array(count),
    end: new Int32Array(count),
    side: new Uint8Array(count),
    zone: new Int32Array(count),
    ticks: new Int32Array(count),
    volume: new Float64Array(count),
    groupStart: new Int32Array(2 * Z).fill(count),
    groupEnd: new Int32Array(2 * Z).fill(count),
  };
  let l = -1;
  for (let j = 0; j < m; j++) {
    const i = perm[j]!;
    if (j === 0 || groupOf(i) !== groupOf(perm[j - 1]!)) {
      if (l >= 0) lv.end[l] = j;
      l++;
      lv.start[l] = j;
      lv.side[l] = p.side[i]!;
      lv.zone[l] = p.zone[i]!;
      lv.ticks[l] = p.side[i] === BID ? bq : sq;
      lv.groupStart[groupOf(i)] = l;
      lv.groupEnd[groupOf(i)] = l + 1;
    }
    lv.volume[l]! += cap[i]!;
  }
  if (l >= 0) lv.end[l] = m;
  // Groups without orders are empty ranges at the position of the next group.
  for (let g = 2 * Z - 1, next = count; g >= 0; g--) {
    if (lv.groupStart[g] === count && lv.groupEnd[g] === count) {
      lv.groupStart[g] = next;
      lv.groupEnd[g] = next;
    } else next = lv.groupStart[g]!;
  }
  return { perm: perm.subarray(0, m), levels: lv };
}
