import { BID, OFFER, type PackedOrders } from './orders.js';
import { f64, i32, u32, u8 } from './scratch.js';

/**
 * The total order of the book: side (bids first), zone (by name), price
 * priority (bids from the highest, offers from the lowest), submission
 * sequence, id. Ids are unique, so no two orders compare equal and any
 * permutation of the input sorts to the same sequence.
 *
 * Sorting is linear: an LSD radix sort on seq (skipped when the orders come
 * in submission order, as a book's do), equal seqs (rare) ordered by id, then
 * a stable counting sort on the (side, zone, price) key, whose range is small
 * because prices are ticks between the floor and the cap.
 */
export interface SortedBook {
  /** Order indices in the total order. */
  perm: Uint32Array;
  /** Order indices by (seq, id): submission order, the order remainders are listed in. */
  bySeq: Uint32Array;
  /** Each order's energy in the total order (position j is order perm[j]), so later passes read in sequence. */
  qty: Float64Array;
  /** Price levels: runs of `perm` with the same side, zone and price. */
  levels: Levels;
  /** Each order's participant number in the total order, when asked for (self-netting reads it in sequence). */
  party?: Int32Array | undefined;
}

export interface Levels {
  count: number;
  start: Int32Array;
  end: Int32Array;
  side: Uint8Array;
  zone: Int32Array;
  ticks: Int32Array;
  volume: Float64Array;
  /** First and end level of each (side, zone) group: group g = side * zones + zone. */
  groupStart: Int32Array;
  groupEnd: Int32Array;
}

function radixByU32(keys: Uint32Array, perm: Uint32Array): Uint32Array {
  // Two stable passes of 16 bits.
  const n = perm.length;
  let src: Uint32Array = perm;
  let dst: Uint32Array = new Uint32Array(n);
  for (let shift = 0; shift < 32; shift += 16) {
    const count = new Int32Array(65537);
    for (let i = 0; i < n; i++) (count[((keys[src[i]!]! >>> shift) & 0xffff) + 1] as number)++;
    for (let d = 0; d < 65536; d++) count[d + 1]! += count[d]!;
    for (let i = 0; i < n; i++) {
      const p = src[i]!;
      dst[count[(keys[p]! >>> shift) & 0xffff]!++] = p;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  return src;
}

let identityBuffer = new Uint32Array(0);

/**
 * 0, 1, …, n − 1, shared by every clearing: results keep it as their submission order, so nothing may write into it.
 */
function identity(n: number): Uint32Array {
  if (identityBuffer.length < n) {
    const grown = new Uint32Array(Math.max(n, 2 * identityBuffer.length));
    for (let i = 0; i < grown.length; i++) grown[i] = i;
    identityBuffer = grown;
  }
  return identityBuffer.subarray(0, n);
}

function identityCopy(n: number): Uint32Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  return perm;
}

export function sortBook(p: PackedOrders, floor: number, cap: number, party?: Int32Array): SortedBook {
  const n = p.n;
  const Z = p.zones.length;
  const L = cap - floor + 1;
  const K = 2 * Z * L;
  const countingSort = K <= Math.max(1 << 16, 4 * n);

  // 1. By seq. A book's orders come in submission order, usually with distinct seqs: then nothing to do.
  let seqFitsU32 = true;
  let seqSorted = true;
  let seqTies = false;
  const seq = p.seq;
  for (let i = 0; i < n; i++) {
    const x = seq[i]!;
    if (x > 0xffffffff) seqFitsU32 = false;
    if (i > 0) {
      const y = seq[i - 1]!;
      if (x < y) seqSorted = false;
      else if (x === y) seqTies = true;
    }
  }
  // In submission order with distinct seqs (a book's orders), the counting sort below only reads perm, and keeps it as
  // bySeq: then it is the shared identity, not a fresh array per clearing.
  let perm: Uint32Array = seqSorted && !seqTies && countingSort ? identity(n) : identityCopy(n);
  if (seqSorted) {
    // Orders often arrive in submission order: nothing to do.
  } else if (seqFitsU32) {
    perm = radixByU32(new Uint32Array(p.seq), perm);
  } else {
    perm = Uint32Array.from([...perm].sort((a, b) => p.seq[a]! - p.seq[b]!));
  }

  // Equal seqs by id, so (seq, id) is a total order before the stable key sort (a sorted input without equal
  // neighbours has no equal seqs).
  if (!seqSorted || seqTies) {
    for (let s = 0; s < n;) {
      let e = s + 1;
      const sq = p.seq[perm[s]!]!;
      while (e < n && p.seq[perm[e]!] === sq) e++;
      if (e - s > 1) {
        const run = Array.from(perm.subarray(s, e)).sort((x, y) => {
          const ix = p.ids[x]!;
          const iy = p.ids[y]!;
          return ix < iy ? -1 : ix > iy ? 1 : 0;
        });
        perm.set(run, s);
      }
      s = e;
    }
  }
  // 2. By (side, zone, price priority), stable: within a key, (seq, id) order stays.
  // The counting sort writes a new array, so perm itself can be kept as bySeq; the radix sort may write into it.
  const bySeq = countingSort ? perm : perm.slice();
  const sq = f64('sort.qty', n);
  const sp = party !== undefined ? i32('sort.party', n) : undefined;
  const lv = emptyLevels(Math.min(n, K), Z, 'sort.levels');
  if (countingSort) {
    // Keys, their counts and their volumes in one pass: the counts give each level's orders and the volumes its
    // energy, so the levels come from the K keys without another pass over the orders.
    // A book cleared as one zone has counted them as its orders arrived (tally.ts): the same keys, counts and sums.
    const t = Z === 1 ? p.tally : undefined;
    let key: Int32Array;
    const count = new Int32Array(K + 1);
    let volume: Float64Array;
    if (t !== undefined && t.count.length === K) {
      key = t.key;
      count.set(t.count, 1);
      volume = t.volume;
    } else {
      key = i32('sort.key', n);
      volume = new Float64Array(K);
      for (let i = 0; i < n; i++) {
        const side = p.side[i]!;
        const k = (side * Z + p.zone[i]!) * L + (side === BID ? cap - p.ticks[i]! : p.ticks[i]! - floor);
        key[i] = k;
        count[k + 1]!++;
        volume[k]! += p.qty[i]!;
      }
    }
    let c = 0;
    for (let k = 0; k < K; k++) {
      const start = count[k]!;
      const end = (count[k + 1]! += start);
      if (end === start) continue;
      const side = k < Z * L ? BID : OFFER;
      const pos = k % L;
      lv.start[c] = start;
      lv.end[c] = end;
      lv.side[c] = side;
      lv.zone[c] = Math.floor(k / L) % Z;
      lv.ticks[c] = side === BID ? cap - pos : floor + pos;
      lv.volume[c] = volume[k]!;
      c++;
    }
    const out = u32('sort.perm', n);
    // One pass places the index, its energy and its participant (perm is usually the identity here, so the reads are
    // in sequence).
    for (let i = 0; i < n; i++) {
      const q = perm[i]!;
      const d = count[key[q]!]!++;
      out[d] = q;
      sq[d] = p.qty[q]!;
      if (sp !== undefined) sp[d] = party![q]!;
    }
    perm = out;
    closeLevels(lv, c, Z);
  } else {
    // Int32 keys while they fit, doubles beyond.
    const key = K < 2 ** 31 ? i32('sort.key', n) : new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const pos = p.side[i] === BID ? cap - p.ticks[i]! : p.ticks[i]! - floor;
      key[i] = (p.side[i]! * Z + p.zone[i]!) * L + pos;
    }
    perm =
      K <= 0xffffffff
        ? radixByU32(new Uint32Array(key), perm)
        : Uint32Array.from([...perm].sort((a, b) => key[a]! - key[b]!));
    for (let j = 0; j < n; j++) {
      sq[j] = p.qty[perm[j]!]!;
      if (sp !== undefined) sp[j] = party![perm[j]!]!;
    }
    // Levels: runs of one key, in one pass.
    let l = -1;
    let vol = 0;
    let prev = -1;
    for (let j = 0; j < n; j++) {
      const q = perm[j]!;
      const k = key[q]!;
      if (k !== prev) {
        if (l >= 0) {
          lv.end[l] = j;
          lv.volume[l] = vol;
        }
        l++;
        prev = k;
        vol = 0;
        lv.start[l] = j;
        lv.side[l] = p.side[q]!;
        lv.zone[l] = p.zone[q]!;
        lv.ticks[l] = p.ticks[q]!;
      }
      vol += sq[j]!;
    }
    if (l >= 0) {
      lv.end[l] = n;
      lv.volume[l] = vol;
    }
    closeLevels(lv, l + 1, Z);
  }
  return { perm, bySeq, qty: sq, levels: lv, party: sp };
}

/**
 * Level columns for at most `max` levels of a book of Z zones, in working arrays of `slot` (scratch.ts; closeLevels
 * trims them to those written): levels live only inside one clearing (no result keeps them), and a 10k-order clearing
 * spent a tenth of its time allocating fresh ones.
 */
export function emptyLevels(max: number, Z: number, slot: string): Levels {
  return {
    count: 0,
    start: i32(`${slot}.start`, max),
    end: i32(`${slot}.end`, max),
    side: u8(`${slot}.side`, max),
    zone: i32(`${slot}.zone`, max),
    ticks: i32(`${slot}.ticks`, max),
    volume: f64(`${slot}.volume`, max),
    groupStart: i32(`${slot}.groupStart`, 2 * Z),
    groupEnd: i32(`${slot}.groupEnd`, 2 * Z),
  };
}

/** Writes level `l` of `old`, now positions [from, to) with `volume` left, as level `c` of `out`. */
export function keepLevel(
  out: Levels,
  c: number,
  old: Levels,
  l: number,
  from: number,
  to: number,
  volume: number,
): void {
  out.start[c] = from;
  out.end[c] = to;
  out.side[c] = old.side[l]!;
  out.zone[c] = old.zone[l]!;
  out.ticks[c] = old.ticks[l]!;
  out.volume[c] = volume;
}

/** Trims the level columns (sized for the worst case) to the `count` levels written, then groups them. */
export function closeLevels(lv: Levels, count: number, Z: number): void {
  lv.count = count;
  lv.start = lv.start.subarray(0, count);
  lv.end = lv.end.subarray(0, count);
  lv.side = lv.side.subarray(0, count);
  lv.zone = lv.zone.subarray(0, count);
  lv.ticks = lv.ticks.subarray(0, count);
  lv.volume = lv.volume.subarray(0, count);
  groupsOf(lv, Z);
}

/** First and end level of each (side, zone) group, from the levels' sides and zones; empty groups are [count, count). */
export function groupsOf(lv: Levels, Z: number): void {
  const count = lv.count;
  lv.groupStart.fill(count);
  lv.groupEnd.fill(count);
  for (let j = count - 1; j >= 0; j--) lv.groupStart[lv.side[j]! * Z + lv.zone[j]!] = j;
  for (let j = 0; j < count; j++) lv.groupEnd[lv.side[j]! * Z + lv.zone[j]!] = j + 1;
  for (let g = 0; g < 2 * Z; g++) if (lv.groupStart[g] === count) lv.groupEnd[g] = count;
}

/**
 * The total order of the orders with energy left (`s.qty`, by position): the same orders in the same order, the
 * netted-out ones dropped, each level's volume what its orders have left, empty levels dropped.
 */
export function withoutUsedUp(s: SortedBook, Z: number): SortedBook {
  const n = s.perm.length;
  const old = s.levels;
  let m = 0;
  for (let j = 0; j < n; j++) if (s.qty[j]! > 0) m++;
  const perm = u32('alloc.perm', m);
  const sq = f64('alloc.qty2', m);
  const lv = emptyLevels(old.count, Z, 'net.levels');
  let d = 0;
  let c = 0;
  for (let l = 0; l < old.count; l++) {
    const from = d;
    let vol = 0;
    for (let j = old.start[l]!, e = old.end[l]!; j < e; j++) {
      const q = s.qty[j]!;
      if (q === 0) continue;
      perm[d] = s.perm[j]!;
      sq[d++] = q;
      vol += q;
    }
    if (d > from) keepLevel(lv, c++, old, l, from, d, vol);
  }
  closeLevels(lv, c, Z);
  return { perm, bySeq: s.bySeq, qty: sq, levels: lv, party: undefined };
}
