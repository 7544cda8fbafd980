/**
 * 32-bit FNV-1a over a string's UTF-16 code units, unsigned. Not for
 * security: a fast, stable spread of ids (the engine's id tables, the
 * bridge's recording phase per meter). Stable across runs and machines, so
 * what it decides is reproducible.
 */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
