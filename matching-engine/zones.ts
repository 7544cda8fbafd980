/**
 * Zone names in name order and, for each name in first-seen order, its index
 * in that order: zone indices must not depend on which order came first.
 */
export function sortedZones(seen: readonly string[]): { names: string[]; remap: Int32Array } {
  const names = [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const remap = new Int32Array(seen.length);
  seen.forEach((name, j) => (remap[j] = names.indexOf(name)));
  return { names, remap };
}
