import { Dec } from '../core/units.js';
import { MicrogridError } from '../core/errors.js';
import type { Flow, Network } from './flow.js';
import type { Levels } from './sort.js';

/**
 * Uniform (zonal) prices for an efficient allocation: the k-double auction.
 *
 * The prices that support an allocation (no filled order would rather not
 * trade, no unfilled order would rather trade, no zone pair left with a
 * profitable unused link) are the dual solutions of the clearing flow. They
 * form an interval per zone — in one zone without fees, exactly
 * [ask, bid] = [max(last filled offer, first unfilled bid), min(last filled
 * bid, first unfilled offer)] — and, across zones, a lattice with a lowest
 * and a highest solution. The price is `low + k·(high − low)`, computed
 * exactly in decimal and rounded to the nearest tick, exact halves down
 * (towards the ask). Both solutions are integer and the rule commutes with
 * integer shifts and is monotone, so the rounded prices still satisfy every
 * constraint: every limit and fee holds at the rounded price.
 */
export interface ZoneTicks {
  /** Seller price per zone (what its sellers receive), ticks. */
  seller: Int32Array;
  /** Buyer price per zone, ticks: the most any of its buyers pays, fee included. */
  buyer: Int32Array;
}

interface Edge {
  u: number;
  v: number;
  w: number;
}

export function roundK(low: number, high: number, k: string): number {
  if (low === high) return low;
  return new Dec(low)
    .plus(new Dec(k).times(high - low))
    .minus(0.5)
    .ceil()
    .toNumber();
}

export function zonePrices(lv: Levels, flow: Flow, net: Network, floor: number, cap: number, k: string): ZoneTicks {
  const Z = net.zones;
  const O = 0;
  const sg = (z: number): number => 1 + z;
  const xi = (z: number): number => 1 + Z + z;
  const be = (z: number): number => 1 + 2 * Z + z;
  const V = 1 + 3 * Z;
  const edges: Edge[] = [];
  // x_v ≤ x_u + w
  const le = (u: number, v: number, w: number): void => void edges.push({ u, v, w });
  for (let z = 0; z < Z; z++) {
    for (const node of [sg(z), be(z)]) {
      le(O, node, cap);
      le(node, O, -floor);
    }
    // Offers of zone z: every filled one ≤ σ ≤ every unfilled one. Only the
    // tightest of each counts: the dearest filled and the cheapest unfilled.
    let filledO = -Infinity;
    let unfilledO = Infinity;
    for (let l = lv.groupStart[Z + z]!; l < lv.groupEnd[Z + z]!; l++) {
      if (flow.levelFill[l]! > 0) filledO = Math.max(filledO, lv.ticks[l]!);
      if (flow.levelFill[l]! < lv.volume[l]!) unfilledO = Math.min(unfilledO, lv.ticks[l]!);
    }
    if (filledO !== -Infinity) le(sg(z), O, -filledO);
    if (unfilledO !== Infinity) le(O, sg(z), unfilledO);
    // Bids of zone z: every filled one ≥ β ≥ every unfilled one.
    let filledB = Infinity;
    let unfilledB = -Infinity;
    for (let l = lv.groupStart[z]!; l < lv.groupEnd[z]!; l++) {
      if (flow.levelFill[l]! > 0) filledB = Math.min(filledB, lv.ticks[l]!);
      if (flow.levelFill[l]! < lv.volume[l]!) unfilledB = Math.max(unfilledB, lv.ticks[l]!);
    }
    if (filledB !== Infinity) le(O, be(z), filledB);
    if (unfilledB !== -Infinity) le(be(z), O, -unfilledB);
    const fzz = net.fee[z * Z + z]!;
    le(sg(z), be(z), fzz);
    if (flow.direct[z]! > 0) le(be(z), sg(z), -fzz);
    if (flow.exported[z]! < net.limit[z]!) le(sg(z), xi(z), 0);
    if (flow.exported[z]! > 0) le(xi(z), sg(z), 0);
    for (let w = 0; w < Z; w++) {
      if (w === z) continue;
      const f = net.fee[z * Z + w]!;
      le(xi(z), be(w), f);
      if (flow.cross[z * Z + w]! > 0) le(be(w), xi(z), -f);
    }
  }
  const high = shortest(V, edges, O, false);
  const lowNeg = shortest(V, edges, O, true);
  const seller = new Int32Array(Z);
  const buyer = new Int32Array(Z);
  for (let z = 0; z < Z; z++) {
    seller[z] = roundK(-lowNeg[sg(z)]!, high[sg(z)]!, k);
    buyer[z] = roundK(-lowNeg[be(z)]!, high[be(z)]!, k);
  }
  return { seller, buyer };
}

/** Bellman-Ford from `src` (on the reversed graph when `reverse`). */
function shortest(V: number, edges: Edge[], src: number, reverse: boolean): Float64Array {
  const d = new Float64Array(V).fill(Infinity);
  d[src] = 0;
  for (let pass = 0; pass <= V; pass++) {
    let changed = false;
    for (const e of edges) {
      const u = reverse ? e.v : e.u;
      const v = reverse ? e.u : e.v;
      if (d[u]! + e.w < d[v]!) {
        d[v] = d[u]! + e.w;
        changed = true;
      }
    }
    if (!changed) return d;
  }
  throw new MicrogridError('INTERNAL', 'clearing prices: the price constraints are contradictory (negative cycle)');
}
