import type { OrderInput } from '../core/market.js';
import { MARKET_MAX_ORDER_WH } from '../core/market.js';
import { isMicrogridError } from '../core/errors.js';
import type { ErrorCode } from '../core/error-codes.js';
import type { ClearingRules } from '../core/market.js';
import type { BookInput } from './clear.js';
import { checkOrder } from './orders.js';
import { compileRules } from './rules.js';

/** An order left out of a clearing, with why. */
export interface ExcludedOrder {
  /** Index in the book as given. */
  index: number;
  /** The order's id when it has a usable one (a string), else null. */
  id: string | null;
  code: ErrorCode;
  reason: string;
}

export interface ScreenedBook {
  /** The orders that may be cleared, in the book's order. */
  orders: OrderInput[];
  excluded: ExcludedOrder[];
}

/**
 * Splits a book into the orders that may clear and those that may not, so
 * one bad order never stops an interval for everyone else (clearBook refuses
 * a whole book on its first bad order: right for a book file, wrong at gate
 * closure). An order is excluded when it fails the engine's order check, when
 * its id was used by an earlier order, when it names more than
 * MARKET_MAX_ORDER_WH, or when it takes its participant's orders of that side
 * above `capacityWh(participant)`; orders are counted against the capacity
 * in submission order (seq, then id), so the later ones go.
 */
export function screenOrders(
  book: BookInput,
  rules: ClearingRules,
  capacityWh?: (participant: string) => number,
): ScreenedBook {
  const cr = compileRules(rules);
  const excluded: ExcludedOrder[] = [];
  const ok: { o: OrderInput; index: number }[] = [];
  const exclude = (index: number, o: unknown, code: ErrorCode, reason: string): void => {
    const id =
      typeof o === 'object' && o !== null && typeof (o as { id?: unknown }).id === 'string'
        ? (o as { id: string }).id
        : null;
    excluded.push({ index, id, code, reason });
  };
  const ids = new Set<string>();
  book.orders.forEach((o, index) => {
    try {
      checkOrder(o, { field: `orders[${index}]` }, book.interval, cr);
    } catch (err) {
      if (!isMicrogridError(err)) throw err;
      exclude(index, o, err.code, err.message);
      return;
    }
    if (ids.has(o.id)) {
      exclude(
        index,
        o,
        'ORDER_DUPLICATE',
        `orders[${index}].id: the id ${JSON.stringify(o.id)} is used by an earlier order`,
      );
      return;
    }
    ids.add(o.id);
    if (o.energyWh > MARKET_MAX_ORDER_WH) {
      exclude(
        index,
        o,
        'INVALID_ENERGY',
        `orders[${index}].energyWh: ${o.energyWh} Wh is above the market maximum of ${MARKET_MAX_ORDER_WH} Wh per order`,
      );
      return;
    }
    ok.push({ o, index });
  });
  if (capacityWh) {
    const used = new Map<string, number>();
    const bySubmission = [...ok].sort((a, b) => a.o.seq - b.o.seq || (a.o.id < b.o.id ? -1 : a.o.id > b.o.id ? 1 : 0));
    const over = new Set<number>();
    for (const { o, index } of bySubmission) {
      const key = `${o.participant}\u0000${o.side}`;
      const cap = capacityWh(o.participant);
      const u = (used.get(key) ?? 0) + o.energyWh;
      if (u > cap) {
        over.add(index);
        exclude(
          index,
          o,
          'INVALID_ENERGY',
          `orders[${index}].energyWh: ${o.energyWh} Wh takes ${o.participant}'s ${o.side}s to ${u} Wh, above the ${cap} Wh its meters can deliver in the interval`,
        );
      } else used.set(key, u);
    }
    excluded.sort((a, b) => a.index - b.index);
    return { orders: ok.filter((x) => !over.has(x.index)).map((x) => x.o), excluded };
  }
  return { orders: ok.map((x) => x.o), excluded };
}
