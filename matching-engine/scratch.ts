/**
 * Working arrays of one clearing, kept from one clearing to the next. A million-order clearing needs about 110 MB of
 * them; allocated fresh each time, that much external memory makes V8 run full collections over the whole heap (the
 * book's million id strings) inside the clearing, which cost more than the clearing itself (issue 16). Clearing is
 * synchronous, so one set serves every clearing; each use has its own slot, and nothing held in a slot may outlive
 * the clearing that filled it (results get arrays of their own).
 */
const slots = new Map<string, ArrayBuffer>();

function buffer(slot: string, bytes: number): ArrayBuffer {
  let b = slots.get(slot);
  if (b === undefined || b.byteLength < bytes) {
    b = new ArrayBuffer(bytes);
    slots.set(slot, b);
  }
  return b;
}

/** A Float64Array of n from `slot`: its content is whatever the last user left, unless `zero`. */
export function f64(slot: string, n: number, zero = false): Float64Array {
  const a = new Float64Array(buffer(slot, n * 8), 0, n);
  if (zero) a.fill(0);
  return a;
}

export function i32(slot: string, n: number, zero = false): Int32Array {
  const a = new Int32Array(buffer(slot, n * 4), 0, n);
  if (zero) a.fill(0);
  return a;
}

export function u32(slot: string, n: number): Uint32Array {
  return new Uint32Array(buffer(slot, n * 4), 0, n);
}

export function u8(slot: string, n: number): Uint8Array {
  return new Uint8Array(buffer(slot, n), 0, n);
}
