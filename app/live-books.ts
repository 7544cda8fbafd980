import type { Config } from '../core/config/schema.js';
import { MicrogridError, isMicrogridError } from '../core/errors.js';
import { toIso } from '../core/interval.js';
import { deliverableWh, type ClearingRules, type OrderInput, type Side } from '../core/market.js';
import { OrderBook, screenOrders } from '../matching-engine/index.js';
import type { Ledger } from '../ledger/ledger.js';
import { getInterval } from '../ledger/intervals.js';
import {
  cancelOrder,
  insertForwardOrder,
  listOpenForwardOrders,
  openForwardIntervals,
  type IntervalOrderRow,
  type NewForwardOrder,
  type OrderRow,
} from '../ledger/orders.js';
import { listMeters, type MeterRow } from '../ledger/participants.js';

/** One open interval's live book and what the app keeps beside it. */
export interface LiveBook {
  readonly start: number;
  readonly book: OrderBook;
  /** Wh in the book per participant and side (`participant\0side`): what a new order of that side adds to. */
  readonly held: Map<string, number>;
  /**
   * Open rows of the ledger the rebuild could not put in the book (a hand-edited row, rules or meters changed since
   * the order came in): gate closure marks them rejected with these reasons and raises ORDER_EXCLUDED.
   */
  readonly refused: { id: string; reason: string }[];
}

const heldKey = (participant: string, side: Side): string => `${participant}\u0000${side}`;

/** A stored order as the engine takes it (partners and greenOnly only when set, as the ledger rows always were). */
function orderInput(
  start: number,
  r: Pick<IntervalOrderRow, 'id' | 'side' | 'energyWh' | 'price' | 'zone' | 'seq' | 'partners' | 'greenOnly'> & {
    participant: string;
  },
): OrderInput {
  return {
    id: r.id,
    participant: r.participant,
    side: r.side,
    interval: toIso(start),
    energyWh: r.energyWh,
    price: r.price,
    zone: r.zone,
    seq: r.seq,
    ...(r.partners ? { partners: r.partners } : {}),
    ...(r.greenOnly ? { greenOnly: true } : {}),
  };
}

/** The engine's refusal with the API's field name (`order.greenOnly` → `greenOnly`): the body has no `order` key. */
function refusal(err: MicrogridError): MicrogridError {
  return new MicrogridError(err.code, 'the order book refuses the order', {
    ...(err.field === undefined ? {} : { field: err.field.replace(/^order\./, '') }),
    value: err.value,
    ...(err.expected === undefined ? {} : { expected: err.expected }),
    cause: err,
  });
}

/**
 * The forward order books of the open intervals, one `OrderBook` each, held by the app: an order placed through the
 * API is validated by the engine once, on arrival, and goes into its interval's book in the same step as its row in
 * the ledger (stored and in the book, or neither); gate closure clears the book. The ledger stays the record: a book
 * this process does not hold (after a restart, or for an interval nobody ordered in yet) is rebuilt from the
 * interval's open rows the first time it is needed, and the book of an interval past gate closure is dropped.
 */
export class LiveBooks {
  readonly #ledger: Ledger;
  readonly #config: Config;
  readonly #rules: ClearingRules;
  readonly #books = new Map<number, LiveBook>();
  /** The latest interval whose book gate closure took: no book is made again for it or any before it. */
  #closedThrough = -Infinity;

  constructor(ledger: Ledger, config: Config, rules: ClearingRules) {
    this.#ledger = ledger;
    this.#config = config;
    this.#rules = rules;
  }

  /** The intervals whose books are in memory, oldest first. */
  intervals(): number[] {
    return [...this.#books.keys()].sort((a, b) => a - b);
  }

  /** The interval's live book, rebuilt from the ledger when this process holds none. */
  book(start: number): LiveBook {
    let b = this.#books.get(start);
    if (b === undefined) {
      b = this.#rebuild(start);
      this.#books.set(start, b);
    }
    return b;
  }

  /** Rebuilds, at start, the books of the intervals with open orders whose gate closure is still ahead of `now`. */
  restore(now: number): void {
    const gateMs = this.#config.market.gateClosureSeconds * 1000;
    for (const s of openForwardIntervals(this.#ledger, now + gateMs)) this.book(s);
  }

  /** What a participant's orders of one side already hold in the interval's book, in Wh. */
  heldWh(participant: string, start: number, side: Side): number {
    if (start <= this.#closedThrough) return 0;
    return this.book(start).held.get(heldKey(participant, side)) ?? 0;
  }

  /**
   * Stores a forward order and adds it to its interval's book, or neither: the row is inserted (which draws its seq)
   * and the book takes it inside one transaction, so the engine's refusal rolls the insert back and is thrown with the
   * API's field name. Refused for an interval the cycle has moved past open.
   */
  place(o: NewForwardOrder): OrderRow {
    const state =
      o.intervalStart <= this.#closedThrough
        ? 'cleared'
        : (getInterval(this.#ledger, o.intervalStart)?.state ?? 'open');
    if (state !== 'open') {
      throw new MicrogridError('ORDER_GATE_CLOSED', `the interval is ${state}`, {
        field: 'interval',
        value: toIso(o.intervalStart),
        expected: 'an interval before its gate closure',
      });
    }
    const live = this.book(o.intervalStart);
    let inBook: string | undefined;
    let row: OrderRow;
    try {
      row = this.#ledger.tx(() => {
        const r = insertForwardOrder(this.#ledger, o);
        try {
          live.book.add(orderInput(o.intervalStart, { ...r, participant: r.participantId }));
        } catch (err) {
          throw isMicrogridError(err) ? refusal(err) : err;
        }
        inBook = r.id;
        return r;
      });
    } catch (err) {
      // The book took the order but the commit failed: take it out again, the ledger has no row.
      if (inBook !== undefined) live.book.cancel(inBook);
      throw err;
    }
    this.#hold(live, row.participantId, row.side, row.energyWh);
    return row;
  }

  /**
   * Cancels an open forward order in the ledger and in its book, or neither. False when the order was not open.
   */
  cancel(row: Pick<OrderRow, 'id' | 'intervalStart'>): boolean {
    // Gate closure took this interval's book and closed its rows: nothing is open, and no book is made again.
    if (row.intervalStart <= this.#closedThrough) return false;
    const live = this.book(row.intervalStart);
    const inBook = live.book.get(row.id);
    const done = this.#ledger.tx(() => {
      if (!cancelOrder(this.#ledger, row.id)) return false;
      if (inBook !== undefined) live.book.cancel(row.id);
      return true;
    });
    if (!done) return false;
    if (inBook !== undefined) this.#hold(live, inBook.participant, inBook.side, -inBook.energyWh);
    else {
      // A row the rebuild refused is no longer open: nothing to reject at gate closure.
      const i = live.refused.findIndex((r) => r.id === row.id);
      if (i >= 0) live.refused.splice(i, 1);
    }
    return true;
  }

  /**
   * Gate closure: the interval's book (rebuilt from the ledger if this process has none) with its gate closed. It is
   * dropped from memory, with any older one: a retry after a failed clearing rebuilds it from the ledger, whose rows
   * are still open.
   */
  take(start: number): LiveBook {
    const live = this.book(start);
    live.book.closeGate();
    for (const s of this.#books.keys()) if (s <= start) this.#books.delete(s);
    this.#closedThrough = Math.max(this.#closedThrough, start);
    return live;
  }

  #hold(live: LiveBook, participant: string, side: Side, wh: number): void {
    const k = heldKey(participant, side);
    live.held.set(k, (live.held.get(k) ?? 0) + wh);
  }

  /**
   * The book of the interval's open rows in submission order. They were checked on arrival; what the engine refuses
   * now (an edited row, or rules or meters that changed since: a lower rated power takes the later orders beyond it)
   * is screened out exactly as gate closure screened every book before the book was live, and kept to be rejected.
   */
  #rebuild(start: number): LiveBook {
    const minutes = this.#config.market.intervalMinutes;
    const rows = listOpenForwardOrders(this.#ledger, start);
    const orders = rows.map((r) => orderInput(start, r));
    const live: LiveBook = { start, book: new OrderBook(toIso(start), this.#rules), held: new Map(), refused: [] };
    // Meters grouped once: a filter over every meter per participant is quadratic at 25,000 households.
    let byParticipant: Map<string, MeterRow[]> | undefined;
    const capacityOf = (p: string): number => {
      if (byParticipant === undefined) {
        byParticipant = new Map();
        for (const m of listMeters(this.#ledger)) {
          const ms = byParticipant.get(m.participantId);
          if (ms) ms.push(m);
          else byParticipant.set(m.participantId, [m]);
        }
      }
      return deliverableWh(byParticipant.get(p) ?? [], minutes);
    };
    const screened = screenOrders({ interval: toIso(start), kind: 'forward', orders }, this.#rules, capacityOf);
    for (const e of screened.excluded)
      if (e.id !== null) live.refused.push({ id: e.id, reason: `${e.code}: ${e.reason}` });
    for (const o of screened.orders) {
      live.book.add(o);
      this.#hold(live, o.participant, o.side, o.energyWh);
    }
    return live;
  }
}
