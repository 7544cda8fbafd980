import type { ClearingResult, ClearingRules, OrderInput } from '../core/market.js';
import { MECHANISMS } from '../core/config/schema.js';

/**
 * Gives the clearing's functions V8's feedback before the first real clearing (issue 16).
 *
 * V8 keeps the hidden class of an object literal alive through the literal's boilerplate, which it makes only once
 * the function holding the literal has run often enough to get a feedback vector. The clearing's objects (the packed
 * book, its tally, the levels, the sorted book, the allocation, the outcome, the result) are built by functions that
 * run once or twice per clearing, so for the first clearings their classes lived only as long as some object had them.
 * A full collection between two clearings then freed them, and V8 deoptimised every function whose optimised code
 * checked them: the next million-order clearing ran unoptimised until V8 compiled it again (`--trace-deopt`: sortBook,
 * takeNetted, sweep, allocateOrders, pairTrades, "weak objects"). A process that clears once per interval has full
 * collections between its clearings, so this was its normal case, not the benchmark's.
 *
 * Clearing a few tiny books of every mechanism, with and without zone fees, reading both lists, runs each of those
 * functions past the point where V8 allocates its feedback (about eight runs of its bytecode). It costs ~80 ms once
 * per process, when its first OrderBook is made (book.ts), before any order arrives. Class instances (the trade writer, the result rows) have no boilerplate: their
 * modules keep one instance each for the same reason (result.ts, rows.ts).
 */
const RUNS = 16;

interface TinyBook {
  add(order: OrderInput): void;
  clear(): ClearingResult;
}

let warmed = false;

/** Once per process, from the first OrderBook's constructor: `Book` is OrderBook (passed in, as book.ts imports this). */
export function warmUp(Book: TinyBookClass, interval: string, rules: ClearingRules): void {
  if (warmed) return;
  warmed = true;
  try {
    clearTinyBooks(Book, interval, rules);
  } catch {
    // Only a head start for V8: the real clearing validates its own book and rules and reports what is wrong with them.
  }
}

type TinyBookClass = new (interval: string, rules: ClearingRules) => TinyBook;

/** The warm-up's clearings (exported for its test). */
export function clearTinyBooks(Book: TinyBookClass, interval: string, rules: ClearingRules): void {
  const zoned = [
    { from: 'a', to: 'b', fee: rules.priceTick },
    { from: 'b', to: 'a', fee: '0' },
  ];
  for (let r = 0; r < RUNS; r++)
    for (const mechanism of MECHANISMS)
      for (const zoneFees of [[], zoned]) {
        const book = new Book(interval, { ...rules, mechanism, zoneFees, zoneExportLimitsWh: {} });
        // p1 has a bid and an offer that cross (self-netting), p2 and p3 trade with it across both zones.
        const order = (
          id: string,
          participant: string,
          side: 'bid' | 'offer',
          price: string,
          zone: string,
          seq: number,
        ) => book.add({ id, participant, side, interval, energyWh: 1000 + seq, price, zone, seq });
        order('w1', 'p1', 'bid', rules.priceCap, 'a', 1);
        order('w2', 'p1', 'offer', rules.priceFloor, 'a', 2);
        order('w3', 'p2', 'offer', rules.priceFloor, 'b', 3);
        order('w4', 'p3', 'bid', rules.priceCap, 'b', 4);
        order('w5', 'p2', 'offer', rules.priceCap, 'a', 5);
        const result = book.clear();
        void result.trades.length;
        void result.remainders.length;
      }
}
