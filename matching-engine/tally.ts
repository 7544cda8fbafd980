import { BID, type BookTally } from './orders.js';
import type { CompiledRules } from './rules.js';

/** Keys are kept only while 2L counters are cheap (as for the counting sort's own table). */
const MAX_KEYS = 1 << 16;

/** The running tally of one book, slot by slot (a slot is where the book keeps an order's columns). */
export class Tally {
  readonly #floor: number;
  readonly #cap: number;
  readonly #L: number;
  #key = new Int32Array(1024);
  readonly #count: Int32Array;
  readonly #volume: Float64Array;
  #bids = new Int32Array(64);
  #offers = new Int32Array(64);
  #bidWh = new Float64Array(64);

  /** A tally for a book under these rules, or undefined when the price range is too wide to count by key. */
  static for(cr: CompiledRules): Tally | undefined {
    return 2 * (cr.cap - cr.floor + 1) <= MAX_KEYS ? new Tally(cr.floor, cr.cap) : undefined;
  }

  private constructor(floor: number, cap: number) {
    this.#floor = floor;
    this.#cap = cap;
    this.#L = cap - floor + 1;
    this.#count = new Int32Array(2 * this.#L);
    this.#volume = new Float64Array(2 * this.#L);
  }

  /** Slot s now holds an order (the book has checked its price is on the grid between floor and cap). */
  add(s: number, side: number, ticks: number, wh: number, party: number): void {
    if (s >= this.#key.length) this.#key = grown(this.#key, s);
    const k = side === BID ? this.#cap - ticks : this.#L + ticks - this.#floor;
    this.#key[s] = k;
    this.#count[k]!++;
    this.#volume[k]! += wh;
    if (party >= this.#bids.length) {
      this.#bids = grown(this.#bids, party);
      this.#offers = grown(this.#offers, party);
      this.#bidWh = grown(this.#bidWh, party);
    }
    if (side === BID) {
      this.#bids[party]!++;
      this.#bidWh[party]! += wh;
    } else this.#offers[party]!++;
  }

  /** Slot s no longer holds the order it held (its side, energy and participant as they were). */
  remove(s: number, side: number, wh: number, party: number): void {
    const k = this.#key[s]!;
    this.#count[k]!--;
    this.#volume[k]! -= wh;
    if (side === BID) {
      this.#bids[party]!--;
      this.#bidWh[party]! -= wh;
    } else this.#offers[party]!--;
  }

  keyOf(s: number): number {
    return this.#key[s]!;
  }

  /**
   * The tally of a book of `parties` participants whose orders sit in slots 0…n − 1 (`key` given when the book
   * compacted its slots). The book is closed, so the arrays handed over no longer change.
   */
  snapshot(n: number, parties: number, key?: Int32Array): BookTally {
    const mask = new Uint8Array(parties);
    for (let k = 0; k < parties; k++) mask[k] = (this.#bids[k]! > 0 ? 1 : 0) | (this.#offers[k]! > 0 ? 2 : 0);
    return {
      key: key ?? this.#key.subarray(0, n),
      count: this.#count,
      volume: this.#volume,
      mask,
      bidWh: this.#bidWh.subarray(0, parties),
    };
  }
}

function grown<T extends Int32Array | Float64Array>(a: T, atLeast: number): T {
  const b = new (a.constructor as new (n: number) => T)(Math.max(2 * a.length, atLeast + 1));
  b.set(a);
  return b;
}
