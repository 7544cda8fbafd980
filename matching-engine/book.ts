import type { ClearingKind, ClearingResult, ClearingRules, OrderInput } from '../core/market.js';
import { MicrogridError } from '../core/errors.js';
import { parseUtc } from '../core/interval.js';
import { compileRules, type CompiledRules } from './rules.js';
import { checkOrder } from './orders.js';
import { clearBook } from './clear.js';

/**
 * The order book of one interval: add, cancel and replace until gate
 * closure, then clear. Every call either succeeds completely or throws and
 * leaves the book as it was. The book has no clock: the caller (the
 * scheduler) says when the gate closes.
 */
export class OrderBook {
  readonly interval: string;
  readonly rules: ClearingRules;
  readonly #cr: CompiledRules;
  readonly #orders = new Map<string, OrderInput>();
  #closed = false;

  constructor(interval: string, rules: ClearingRules) {
    parseUtc(interval, 'interval');
    this.interval = interval;
    this.rules = rules;
    this.#cr = compileRules(rules);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get size(): number {
    return this.#orders.size;
  }

  /** The orders in the order they were added (the engine does not depend on it). */
  orders(): OrderInput[] {
    return [...this.#orders.values()];
  }

  get(id: string): OrderInput | undefined {
    return this.#orders.get(id);
  }

  add(order: OrderInput): void {
    this.#open('add');
    const o = this.#check(order);
    if (this.#orders.has(o.id)) {
      throw new MicrogridError('ORDER_DUPLICATE', `order ${JSON.stringify(o.id)} is already in the book`, {
        field: 'order.id',
        value: o.id,
        expected: 'an id not in the book (use replace to change an order)',
      });
    }
    this.#orders.set(o.id, o);
  }

  cancel(id: string): OrderInput {
    this.#open('cancel');
    const o = this.#orders.get(id);
    if (!o) throw new MicrogridError('NOT_FOUND', `no order ${JSON.stringify(id)} in the book of ${this.interval}`, { field: 'order.id', value: id, expected: 'the id of an order in the book' });
    this.#orders.delete(id);
    return o;
  }

  /** Replaces order `id` by `order` (same id): the new one takes its place in the book. */
  replace(id: string, order: OrderInput): OrderInput {
    this.#open('replace');
    const old = this.#orders.get(id);
    if (!old) throw new MicrogridError('NOT_FOUND', `no order ${JSON.stringify(id)} in the book of ${this.interval}`, { field: 'order.id', value: id, expected: 'the id of an order in the book' });
    const o = this.#check(order);
    if (o.id !== id) throw new MicrogridError('INVALID_INPUT', `a replacement keeps the order's id`, { field: 'order.id', value: o.id, expected: JSON.stringify(id) });
    this.#orders.set(id, o);
    return old;
  }

  /** Gate closure: from now on the book refuses every change. Idempotent. */
  closeGate(): void {
    this.#closed = true;
  }

  /** Clears the book (closing the gate first, if still open). */
  clear(kind: ClearingKind = 'forward'): ClearingResult {
    this.#closed = true;
    return clearBook({ interval: this.interval, kind, orders: this.orders() }, this.rules);
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
  #check(order: OrderInput): OrderInput {
    checkOrder(order, { field: 'order' }, this.interval, this.#cr);
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
    return o;
  }
}
