import { MicrogridError } from '../core/errors.js';
import type { Levels } from './sort.js';

/**
 * The efficient allocation across zones, as a min-cost flow on price levels.
 *
 * Nodes: a source S, per zone a seller node Sz, an export hub Xz and a buyer
 * node Bz, and a sink T. Energy flows S → Sz (at the price of z's cheapest
 * offer level with energy left) → Bz (same zone, at fee z→z) or → Xz (capped
 * by z's export limit) → Bz' (another zone, at fee z→z') → T (earning the
 * price of z''s highest bid level with energy left). Successive shortest
 * paths (Bellman-Ford on the residual graph, which may re-route earlier flow
 * between zones) augment while the cheapest path costs ≤ 0, i.e. while a bid
 * still covers an offer plus its fee. Each path is exact for the flow it
 * carries, so the result maximises surplus (and, among maximal allocations,
 * takes zero-surplus trades too: a bid equal to offer + fee trades).
 *
 * The graph has 3Z + 2 nodes whatever the book size, and the number of paths
 * is about the number of price levels, so a million orders on 2,000 price
 * levels cost a few thousand tiny shortest-path searches.
 */
export interface Flow {
  /** Energy filled at each level. */
  levelFill: Float64Array;
  /** Energy sold within zone z (z → z). */
  direct: Float64Array;
  /** Energy sold from z to z' ≠ z, at z * Z + z'. */
  cross: Float64Array;
  /** Energy zone z exports in total (Σ cross from z), bounded by its limit. */
  exported: Float64Array;
  matchedWh: number;
}

export interface Network {
  zones: number;
  /** fee in ticks, at from * Z + to. */
  fee: Int32Array;
  /** Export limit per zone, Wh (Infinity when none). */
  limit: Float64Array;
}

/** Side indices of Levels groups (kept here as numbers so flow needs no import of orders). */
const BID = 0;
const OFFER = 1;

export function solveFlow(lv: Levels, net: Network): Flow {
  const Z = net.zones;
  const fee = net.fee;
  const limit = net.limit;
  const levelFill = new Float64Array(lv.count);
  const direct = new Float64Array(Z);
  const cross = new Float64Array(Z * Z);
  const exported = new Float64Array(Z);
  // Head level (the next one with energy left) and what it has left, per zone and side.
  const headO = new Int32Array(Z);
  const headB = new Int32Array(Z);
  const remO = new Float64Array(Z);
  const remB = new Float64Array(Z);
  for (let z = 0; z < Z; z++) {
    headO[z] = lv.groupStart[OFFER * Z + z]!;
    headB[z] = lv.groupStart[BID * Z + z]!;
    remO[z] = headO[z]! < lv.groupEnd[OFFER * Z + z]! ? lv.volume[headO[z]!]! : 0;
    remB[z] = headB[z]! < lv.groupEnd[BID * Z + z]! ? lv.volume[headB[z]!]! : 0;
  }
  if (Z === 1) return mergeOneZone(lv, fee[0]!, levelFill, direct, cross, exported);
  const S = 0;
  const sN = (z: number): number => 1 + z;
  const xN = (z: number): number => 1 + Z + z;
  const bN = (z: number): number => 1 + 2 * Z + z;
  const T = 1 + 3 * Z;
  const V = T + 1;
  const dist = new Float64Array(V);
  const pred = new Int32Array(V);
  let matched = 0;
  let changed: boolean;
  const relax = (u: number, v: number, c: number): void => {
    const d = dist[u]! + c;
    if (d < dist[v]!) {
      dist[v] = d;
      pred[v] = u;
      changed = true;
    }
  };

  for (;;) {
    dist.fill(Infinity);
    pred.fill(-1);
    dist[S] = 0;
    for (let pass = 0; pass < V; pass++) {
      changed = false;
      for (let z = 0; z < Z; z++) if (remO[z]! > 0) relax(S, sN(z), lv.ticks[headO[z]!]!);
      for (let z = 0; z < Z; z++) {
        if (dist[sN(z)] !== Infinity) {
          relax(sN(z), bN(z), fee[z * Z + z]!);
          if (exported[z]! < limit[z]!) relax(sN(z), xN(z), 0);
        }
        if (direct[z]! > 0 && dist[bN(z)] !== Infinity) relax(bN(z), sN(z), -fee[z * Z + z]!);
        if (exported[z]! > 0 && dist[xN(z)] !== Infinity) relax(xN(z), sN(z), 0);
        for (let w = 0; w < Z; w++) {
          if (w === z) continue;
          if (dist[xN(z)] !== Infinity) relax(xN(z), bN(w), fee[z * Z + w]!);
          if (cross[z * Z + w]! > 0 && dist[bN(w)] !== Infinity) relax(bN(w), xN(z), -fee[z * Z + w]!);
        }
      }
      for (let z = 0; z < Z; z++) if (remB[z]! > 0 && dist[bN(z)] !== Infinity) relax(bN(z), T, -lv.ticks[headB[z]!]!);
      if (!changed) break;
      if (pass === V - 1) throw new MicrogridError('INTERNAL', 'clearing flow: negative cycle in the residual graph');
    }
    if (!(dist[T]! <= 0)) break;

    // The path's capacity.
    let delta = Infinity;
    for (let v = T; v !== S;) {
      const u = pred[v]!;
      delta = Math.min(delta, capacity(u, v));
      v = u;
    }
    for (let v = T; v !== S;) {
      const u = pred[v]!;
      push(u, v, delta);
      v = u;
    }
    matched += delta;
  }
  return { levelFill, direct, cross, exported, matchedWh: matched };

  function zoneOf(node: number): number {
    return (node - 1) % Z;
  }
  function capacity(u: number, v: number): number {
    if (u === S) return remO[zoneOf(v)]!;
    if (v === T) return remB[zoneOf(u)]!;
    const uz = zoneOf(u);
    const vz = zoneOf(v);
    const uKind = Math.floor((u - 1) / Z); // 0 seller, 1 hub, 2 buyer
    const vKind = Math.floor((v - 1) / Z);
    if (uKind === 0 && vKind === 2) return Infinity;
    if (uKind === 2 && vKind === 0) return direct[uz]!;
    if (uKind === 0 && vKind === 1) return limit[uz]! - exported[uz]!;
    if (uKind === 1 && vKind === 0) return exported[uz]!;
    if (uKind === 1 && vKind === 2) return Infinity;
    return cross[vz * Z + uz]!; // buyer → hub: undo part of hub vz → buyer uz
  }
  function push(u: number, v: number, d: number): void {
    if (u === S) {
      const z = zoneOf(v);
      levelFill[headO[z]!]! += d;
      remO[z]! -= d;
      if (remO[z] === 0) {
        headO[z]!++;
        remO[z] = headO[z]! < lv.groupEnd[OFFER * Z + z]! ? lv.volume[headO[z]!]! : 0;
      }
      return;
    }
    if (v === T) {
      const z = zoneOf(u);
      levelFill[headB[z]!]! += d;
      remB[z]! -= d;
      if (remB[z] === 0) {
        headB[z]!++;
        remB[z] = headB[z]! < lv.groupEnd[BID * Z + z]! ? lv.volume[headB[z]!]! : 0;
      }
      return;
    }
    const uz = zoneOf(u);
    const vz = zoneOf(v);
    const uKind = Math.floor((u - 1) / Z);
    const vKind = Math.floor((v - 1) / Z);
    if (uKind === 0 && vKind === 2) direct[uz]! += d;
    else if (uKind === 2 && vKind === 0) direct[uz]! -= d;
    else if (uKind === 0 && vKind === 1) exported[uz]! += d;
    else if (uKind === 1 && vKind === 0) exported[uz]! -= d;
    else if (uKind === 1 && vKind === 2) cross[uz * Z + vz]! += d;
    else cross[vz * Z + uz]! -= d;
  }
}

/** One zone: the shortest path is always S → S0 → B0 → T, so the flow is a plain merge of the two merit orders. */
function mergeOneZone(
  lv: Levels,
  fee: number,
  levelFill: Float64Array,
  direct: Float64Array,
  cross: Float64Array,
  exported: Float64Array,
): Flow {
  let o = lv.groupStart[OFFER]!;
  const oEnd = lv.groupEnd[OFFER]!;
  let b = lv.groupStart[BID]!;
  const bEnd = lv.groupEnd[BID]!;
  let matched = 0;
  while (o < oEnd && b < bEnd && lv.ticks[o]! + fee <= lv.ticks[b]!) {
    const d = Math.min(lv.volume[o]! - levelFill[o]!, lv.volume[b]! - levelFill[b]!);
    levelFill[o]! += d;
    levelFill[b]! += d;
    matched += d;
    if (levelFill[o] === lv.volume[o]) o++;
    if (levelFill[b] === lv.volume[b]) b++;
  }
  direct[0] = matched;
  return { levelFill, direct, cross, exported, matchedWh: matched };
}
