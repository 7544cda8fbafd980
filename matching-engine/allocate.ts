import type { Levels } from './sort.js';

/**
 * From the energy filled at each price level to the energy each order fills.
 * Levels above the margin fill completely, levels beyond it not at all. The
 * one level per zone and side that fills in part (the marginal price) shares
 * its fill pro rata by volume, rounded down to whole Wh; the Wh left over go
 * one each to the level's orders in the total order (submission sequence,
 * then id). The remainder is smaller than the number of orders in the level,
 * so no order gets more than one extra Wh and none goes beyond its energy.
 */
export function allocateOrders(
  perm: Uint32Array,
  lv: Levels,
  levelFill: Float64Array,
  sortedQty: Float64Array,
  fill: Float64Array,
  sortedFill: Float64Array,
): void {
  // Read in the total order (sortedQty, sortedFill: position j is order perm[j]), so only the by-index fill is a
  // scattered write.
  for (let l = 0; l < lv.count; l++) {
    const F = levelFill[l]!;
    if (F === 0) continue;
    const s = lv.start[l]!;
    const e = lv.end[l]!;
    const vol = lv.volume[l]!;
    if (F === vol) {
      for (let j = s; j < e; j++) {
        const q = sortedQty[j]!;
        sortedFill[j] = q;
        fill[perm[j]!] = q;
      }
      continue;
    }
    let given = 0;
    for (let j = s; j < e; j++) {
      const base = proRata(F, sortedQty[j]!, vol);
      sortedFill[j] = base;
      fill[perm[j]!] = base;
      given += base;
    }
    for (let j = s; given < F; j++) {
      sortedFill[j]! += 1;
      fill[perm[j]!]! += 1;
      given += 1;
    }
  }
}

/** floor(F × q / vol), exact even when F × q passes 2^53. */
function proRata(F: number, q: number, vol: number): number {
  const prod = F * q;
  if (prod <= Number.MAX_SAFE_INTEGER) {
    const b = Math.floor(prod / vol);
    return b * vol > prod ? b - 1 : b; // guard the float division's last bit
  }
  return Number((BigInt(F) * BigInt(q)) / BigInt(vol));
}
