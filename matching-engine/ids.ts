/**
 * The id rule of core/ids.ts (1–64 of letters, digits, ".", "_", ":", "-",
 * starting with a letter or digit), checked with a char loop: on a million
 * orders it is several times faster than the regex, and a test checks the
 * two agree.
 */
export function isIdFast(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const n = s.length;
  if (n === 0 || n > 64) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) continue;
    if (i > 0 && (c === 46 || c === 95 || c === 58 || c === 45)) continue;
    return false;
  }
  return true;
}

/**
 * Index of the first string equal to an earlier one, or -1. An open-addressing
 * table of indices (FNV-1a hash) instead of a Set: no per-entry allocation,
 * which matters at a million ids.
 */
export function firstDuplicate(ids: readonly string[]): number {
  const n = ids.length;
  let size = 16;
  while (size < 2 * n) size <<= 1;
  const table = new Int32Array(size).fill(-1);
  const mask = size - 1;
  for (let i = 0; i < n; i++) {
    const s = ids[i]!;
    let h = 0x811c9dc5;
    for (let j = 0; j < s.length; j++) h = Math.imul(h ^ s.charCodeAt(j), 16777619);
    let k = h & mask;
    for (;;) {
      const t = table[k]!;
      if (t < 0) {
        table[k] = i;
        break;
      }
      if (ids[t] === s) return i;
      k = (k + 1) & mask;
    }
  }
  return -1;
}
