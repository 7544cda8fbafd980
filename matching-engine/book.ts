import type { ClearingKind, ClearingResult, ClearingRules, OrderInput } from '../core/market.js';
import { MicrogridError, invalid } from '../core/errors.js';
import { parseUtc } from '../core/interval.js';
import { compileRules, type CompiledRules } from './rules.js';
import { BID, OFFER, checkOrder, packedBook, partnerList, type PackedOrders } from './orders.js';
import { clearPacked } from './clear.js';
import { sortedZones } from './zones.js';
import { IdIndex } from './ids.js';
import { Tally } from './tally.js';
import { warmUp } from './warm-up.js';

/**
 * The order book of one interval: add, cancel and replace until gate
 * closure, then clear. Every call either succeeds completely or throws and
 * leaves the book as it was. The book has no clock: the caller (the
 * scheduler) says when the gate closes.
 *
 * Orders are validated and packed into columns (struct of arrays, integer
 * ticks) as they arrive, one slot each, so gate closure clears the columns
 * directly instead of validating and packing the whole book at once. A
 * cancelled order leaves a hole that clearing skips; a replacement takes its
 * order's slot.
 */
/** Slots up to which a zone seen late is put in name order at once (the pass over the slots is then cheap). */
const RENUMBER_MAX = 4096;

export class OrderBook {
  readonly interval: string;
  readonly rules: ClearingRules;
  readonly #cr: CompiledRules;
  // Per slot: no order objects, only columns and strings, so a book of a
  // million orders is a few flat buffers and the garbage collector has little
  // to trace when clearing allocates (a full GC over a million order objects
  // cost more than the clearing itself). A cancelled slot has no id.
  readonly #ids: (string | undefined)[] = [];
  /** Order id → slot. */
  readonly #slot = new IdIndex(this.#ids);
  readonly #participants: string[] = [];
  /**
   * Each participant id numbered once as orders arrive (the slot's number in #party), for self-netting at gate closure.
   */
  readonly #partyOf = new Map<string, number>();
  readonly #partyNames: string[] = [];
  #party = new Int32Array(1024);
  /** The price string as given. */
  readonly #prices: string[] = [];
  /** One copy of each participant id and price string: a book has few distinct ones. */
  readonly #strings = new Map<string, string>();
  /** Optional fields, for the few orders that carry them. */
  readonly #extras = new Map<number, Pick<OrderInput, 'partners' | 'greenOnly'>>();
  #side = new Uint8Array(1024);
  #qty = new Float64Array(1024);
  #ticks = new Int32Array(1024);
  /**
   * Index into #zoneNames, kept in name order as zones arrive (a book has a few zones, all seen in its first orders),
   * so clearing can hand the column over as it is. A zone first seen late in a big book is appended instead
   * (#zonesUnsorted) and clearing renumbers, so one late order never costs a pass over the whole book.
   */
  #zone = new Int32Array(1024);
  #seq = new Float64Array(1024);
  readonly #zoneIdx = new Map<string, number>();
  readonly #zoneNames: string[] = [];
  /** Live orders per zone: a zone whose orders were all cancelled or moved is not part of the book. */
  readonly #zoneUse: number[] = [];
  #zonesUnsorted = false;
  /** Sort keys and participants' sides, kept as orders come and go (tally.ts). */
  readonly #tally: Tally | undefined;
  #holes = 0;
  #totalWh = 0;
  #closed = false;

  constructor(interval: string, rules: ClearingRules) {
    parseUtc(interval, 'interval');
    this.interval = interval;
    this.rules = rules;
    this.#cr = compileRules(rules);
    this.#tally = Tally.for(this.#cr);
    // The first book of the process warms the clearing up while its orders arrive, not at its gate closure.
    warmUp(OrderBook, interval, rules);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get size(): number {
    return this.#slot.size;
  }

  /** The orders in the order they were added (the engine does not depend on it). */
  orders(): OrderInput[] {
    const out: OrderInput[] = [];
    for (let s = 0; s < this.#ids.length; s++) if (this.#ids[s] !== undefined) out.push(this.#order(s));
    return out;
  }

  /** A copy of the order with this id. */
  get(id: string): OrderInput | undefined {
    const s = this.#slot.get(id);
    return s === undefined ? undefined : this.#order(s);
  }

  add(order: OrderInput): void {
    this.#open('add');
    const { o, ticks } = this.#check(order);
    if (this.#slot.get(o.id) !== undefined) {
      throw new MicrogridError('ORDER_DUPLICATE', `order ${JSON.stringify(o.id)} is already in the book`, {
        field: 'order.id',
        value: o.id,
        expected: 'an id not in the book (use replace to change an order)',
      });
    }
    this.#checkTotal(this.#totalWh + o.energyWh);
    const s = this.#ids.length;
    if (s === this.#side.length) this.#grow();
    this.#ids.push(o.id);
    this.#participants.push(this.#partyName(s, o.participant));
    this.#prices.push(this.#intern(o.price));
    this.#slot.add(o.id, s);
    this.#put(s, o, ticks);
  }

  cancel(id: string): OrderInput {
    this.#open('cancel');
    const s = this.#slotOf(id);
    const o = this.#order(s);
    this.#untally(s);
    this.#slot.delete(id);
    this.#ids[s] = undefined;
    this.#extras.delete(s);
    this.#holes++;
    this.#totalWh -= o.energyWh;
    this.#zoneUse[this.#zone[s]!]!--;
    return o;
  }

  /** Replaces order `id` by `order` (same id): the new one takes its place in the book. */
  replace(id: string, order: OrderInput): OrderInput {
    this.#open('replace');
    const s = this.#slotOf(id);
    const old = this.#order(s);
    const { o, ticks } = this.#check(order);
    if (o.id !== id)
      throw new MicrogridError('INVALID_INPUT', `a replacement keeps the order's id`, {
        field: 'order.id',
        value: o.id,
        expected: JSON.stringify(id),
      });
    this.#checkTotal(this.#totalWh - old.energyWh + o.energyWh);
    this.#totalWh -= old.energyWh;
    this.#zoneUse[this.#zone[s]!]!--;
    this.#untally(s);
    this.#participants[s] = this.#partyName(s, o.participant);
    this.#prices[s] = this.#intern(o.price);
    this.#put(s, o, ticks);
    return old;
  }

  /** Gate closure: from now on the book refuses every change. Idempotent. */
  closeGate(): void {
    this.#closed = true;
  }

  /**
   * Clears the book (closing the gate first, if still open). The same result,
   * byte for byte, as clearBook on `orders()`: both clear the same columns.
   */
  clear(kind: ClearingKind = 'forward'): ClearingResult {
    this.#closed = true;
    return clearPacked(this.#packed(), this.interval, kind, this.#cr);
  }

  /** The live slots as PackedOrders, zones numbered by name. The gate is closed, so the columns no longer change. */
  #packed(): PackedOrders {
    const slots = this.#ids.length;
    const n = slots - this.#holes;
    // The column is already numbered by name unless a zone came late or one is no longer used: then renumber the
    // zones in use by name (slots of unused zones in `remap` are never read).
    const asIs = !this.#zonesUnsorted && this.#zoneUse.every((u) => u > 0);
    let remap: Int32Array | undefined;
    let names = [...this.#zoneNames];
    if (!asIs) {
      const used = this.#zoneNames.map((_, z) => z).filter((z) => this.#zoneUse[z]! > 0);
      const named = sortedZones(used.map((z) => this.#zoneNames[z]!));
      remap = new Int32Array(this.#zoneNames.length);
      used.forEach((z, j) => (remap![z] = named.remap[j]!));
      names = named.names;
    }
    if (this.#holes === 0) {
      let zone = this.#zone.subarray(0, n);
      if (remap !== undefined) {
        zone = new Int32Array(n);
        for (let i = 0; i < n; i++) zone[i] = remap[this.#zone[i]!]!;
      }
      const partners = new Map<number, readonly string[]>();
      for (const [slot, x] of this.#extras)
        if (x.partners !== undefined && x.partners.length > 0) partners.set(slot, partnerList(x.partners));
      return packedBook({
        n,
        side: this.#side.subarray(0, n),
        qty: this.#qty.subarray(0, n),
        ticks: this.#ticks.subarray(0, n),
        zone,
        seq: this.#seq.subarray(0, n),
        zones: names,
        ids: this.#ids as string[], // no holes
        participants: this.#participants,
        partners,
        party: this.#party.subarray(0, n),
        parties: this.#partyNames.length,
        tally: this.#tally?.snapshot(n, this.#partyNames.length),
      });
    }
    const zone = new Int32Array(n);
    const side = new Uint8Array(n);
    const qty = new Float64Array(n);
    const ticks = new Int32Array(n);
    const seq = new Float64Array(n);
    const ids: string[] = new Array(n);
    const participants: string[] = new Array(n);
    const party = new Int32Array(n);
    const key = this.#tally ? new Int32Array(n) : undefined;
    const partners = new Map<number, readonly string[]>();
    let j = 0;
    for (let s = 0; s < slots; s++) {
      if (this.#ids[s] === undefined) continue;
      const x = this.#extras.get(s)?.partners;
      if (x !== undefined && x.length > 0) partners.set(j, partnerList(x));
      side[j] = this.#side[s]!;
      qty[j] = this.#qty[s]!;
      ticks[j] = this.#ticks[s]!;
      zone[j] = remap === undefined ? this.#zone[s]! : remap[this.#zone[s]!]!;
      seq[j] = this.#seq[s]!;
      ids[j] = this.#ids[s]!;
      participants[j] = this.#participants[s]!;
      party[j] = this.#party[s]!;
      if (key) key[j] = this.#tally!.keyOf(s);
      j++;
    }
    const parties = this.#partyNames.length;
    const tally = this.#tally?.snapshot(n, parties, key);
    return packedBook({
      n,
      side,
      qty,
      ticks,
      zone,
      seq,
      zones: names,
      ids,
      participants,
      partners,
      party,
      parties,
      tally,
    });
  }

  /** The participant's one copy of its id, its number written into slot s. */
  #partyName(s: number, x: string): string {
    let k = this.#partyOf.get(x);
    if (k === undefined) {
      k = this.#partyNames.length;
      this.#partyOf.set(x, k);
      this.#partyNames.push(x);
    }
    this.#party[s] = k;
    return this.#partyNames[k]!;
  }

  #intern(x: string): string {
    const y = this.#strings.get(x);
    if (y !== undefined) return y;
    this.#strings.set(x, x);
    return x;
  }

  #order(s: number): OrderInput {
    const o: OrderInput = {
      id: this.#ids[s]!,
      participant: this.#participants[s]!,
      side: this.#side[s] === BID ? 'bid' : 'offer',
      interval: this.interval,
      energyWh: this.#qty[s]!,
      price: this.#prices[s]!,
      zone: this.#zoneNames[this.#zone[s]!]!,
      seq: this.#seq[s]!,
    };
    const x = this.#extras.get(s);
    if (x?.partners !== undefined) o.partners = [...x.partners];
    if (x?.greenOnly !== undefined) o.greenOnly = x.greenOnly;
    return o;
  }

  #put(s: number, o: OrderInput, ticks: number): void {
    if (o.partners !== undefined || o.greenOnly !== undefined)
      this.#extras.set(s, {
        ...(o.partners !== undefined ? { partners: o.partners } : {}),
        ...(o.greenOnly !== undefined ? { greenOnly: o.greenOnly } : {}),
      });
    else this.#extras.delete(s);
    const z = this.#zoneIdx.get(o.zone) ?? this.#newZone(o.zone);
    this.#zoneUse[z]!++;
    this.#side[s] = o.side === 'bid' ? BID : OFFER;
    this.#qty[s] = o.energyWh;
    this.#ticks[s] = ticks;
    this.#zone[s] = z;
    this.#seq[s] = o.seq;
    this.#totalWh += o.energyWh;
    this.#tally?.add(s, this.#side[s]!, ticks, o.energyWh, this.#party[s]!);
  }

  #untally(s: number): void {
    this.#tally?.remove(s, this.#side[s]!, this.#qty[s]!, this.#party[s]!);
  }

  /** Numbers a zone not seen before: in name order while the book is small, else after the others. */
  #newZone(name: string): number {
    const names = this.#zoneNames;
    let z = names.length;
    while (z > 0 && names[z - 1]! > name) z--;
    const slots = this.#ids.length;
    if (z === names.length || this.#zonesUnsorted || slots > RENUMBER_MAX) {
      if (z < names.length) this.#zonesUnsorted = true;
      z = names.length;
      names.push(name);
      this.#zoneUse.push(0);
    } else {
      names.splice(z, 0, name);
      this.#zoneUse.splice(z, 0, 0);
      names.forEach((x, k) => this.#zoneIdx.set(x, k));
      // Every slot, live or not (a replacement writes its slot's zone afresh).
      for (let s = 0; s < slots; s++) if (this.#zone[s]! >= z) this.#zone[s]!++;
    }
    this.#zoneIdx.set(name, z);
    return z;
  }

  #grow(): void {
    const cap = this.#side.length * 2;
    const side = new Uint8Array(cap);
    side.set(this.#side);
    this.#side = side;
    const qty = new Float64Array(cap);
    qty.set(this.#qty);
    this.#qty = qty;
    const ticks = new Int32Array(cap);
    ticks.set(this.#ticks);
    this.#ticks = ticks;
    const zone = new Int32Array(cap);
    zone.set(this.#zone);
    this.#zone = zone;
    const seq = new Float64Array(cap);
    seq.set(this.#seq);
    this.#seq = seq;
    const party = new Int32Array(cap);
    party.set(this.#party);
    this.#party = party;
  }

  #slotOf(id: string): number {
    const s = this.#slot.get(id);
    if (s === undefined)
      throw new MicrogridError('NOT_FOUND', `no order ${JSON.stringify(id)} in the book of ${this.interval}`, {
        field: 'order.id',
        value: id,
        expected: 'the id of an order in the book',
      });
    return s;
  }

  #checkTotal(total: number): void {
    if (!Number.isSafeInteger(total))
      throw invalid(
        'INVALID_ENERGY',
        'order.energyWh',
        total,
        'a book whose total energy is a safe integer number of Wh',
      );
  }

  #open(action: string): void {
    if (this.#closed) {
      throw new MicrogridError('GATE_CLOSED', `the book of ${this.interval} is past gate closure: cannot ${action}`, {
        field: 'interval',
        value: this.interval,
        expected: 'an interval before gate closure',
      });
    }
  }

  /** Validates and copies the order, so a caller mutating its object later cannot change the book. */
  #check(order: OrderInput): { o: OrderInput; ticks: number } {
    const ticks = checkOrder(order, { field: 'order' }, this.interval, this.#cr);
    const o: OrderInput = {
      id: order.id,
      participant: order.participant,
      side: order.side,
      interval: order.interval,
      energyWh: order.energyWh,
      price: order.price,
      zone: order.zone,
      seq: order.seq,
    };
    if (order.partners !== undefined) o.partners = [...order.partners];
    if (order.greenOnly !== undefined) o.greenOnly = order.greenOnly;
    return { o, ticks };
  }
}
