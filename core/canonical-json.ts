/**
 * Canonical JSON: object keys sorted, no whitespace, no undefined. The same
 * value always gives the same bytes, which is what "same input, same output,
 * byte for byte" and Merkle leaves need. Numbers must be safe integers or
 * finite; money and prices travel as decimal strings, never as floats.
 */
export function canonicalJson(value: unknown): string {
  return write(value);
}

// Built by appending to one string rather than map() + join() per object: the month's audit encodes ~100 000
// statements and trades per 480 intervals, and the intermediate arrays were a third of the encoding's time and
// garbage. The bytes are those of the map/join version (test/core/canonical-json.test.ts compares the two, holes in
// sparse arrays included).
function write(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`canonicalJson: non-finite number ${v}`);
      return JSON.stringify(v);
    case 'bigint':
      return JSON.stringify(v.toString());
    case 'object': {
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) {
          if (i > 0) s += ',';
          // a hole is skipped by map() and joined as nothing; an undefined element is null
          if (!(i in v)) continue;
          const x: unknown = v[i];
          s += x === undefined ? 'null' : write(x);
        }
        return `${s}]`;
      }
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let s = '{';
      let first = true;
      for (const k of keys) {
        const x = obj[k];
        if (x === undefined) continue;
        if (!first) s += ',';
        first = false;
        s += `${JSON.stringify(k)}:${write(x)}`;
      }
      return `${s}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode ${typeof v}`);
  }
}

/**
 * canonicalJson(a) === canonicalJson(b), without encoding when the two are the same tree: a statement's stored and
 * recomputed forms are compared once per participant and interval (~48 000 pairs per 480 intervals of the audit),
 * where encoding both took ~1.6 s of ~34 s. The walk answers only "same"; anything it does not settle (a different
 * value, a bigint against a string, an undefined array element, a hole) is decided by encoding both, so the answer is
 * always the encodings' (a test compares them).
 */
export function sameCanonicalJson(a: unknown, b: unknown): boolean {
  return sameTree(a, b) || canonicalJson(a) === canonicalJson(b);
}

/** True only when both encode to the same bytes (and both encode: no function, symbol or non-finite number). */
function sameTree(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null)
    return a === b && (a === null || typeof a === 'string' || typeof a === 'boolean' || Number.isFinite(a));
  if (typeof b !== 'object' || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (!(i in a) || !(i in b)) return false;
      const x: unknown = a[i];
      const y: unknown = b[i];
      if (x === undefined || y === undefined || !sameTree(x, y)) return false;
    }
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  for (const k of ka) {
    // own and enumerable, as Object.keys lists it: with the counts equal, the key sets are equal
    if (!Object.prototype.propertyIsEnumerable.call(ob, k)) return false;
    const x = oa[k];
    const y = ob[k];
    if (x === undefined && y === undefined) continue;
    if (!sameTree(x, y)) return false;
  }
  return true;
}
