/**
 * The longest wait between two tries of the chain, in every settlement loop (docs/settlement.md, "Chains": "backoff up
 * to 5 s").
 */
export const BACKOFF_CAP_MS = 5_000;

/**
 * Doubling waits from `firstMs` up to BACKOFF_CAP_MS, for a loop that tries
 * the chain again after a failure: `next()` gives the wait before the next
 * try, `reset()` starts over after a success. A dozen lines, so no library.
 */
export interface Backoff {
  next(): number;
  reset(): void;
}

export function backoff(firstMs: number, capMs = BACKOFF_CAP_MS): Backoff {
  let wait = firstMs;
  return {
    next() {
      const ms = wait;
      wait = Math.min(wait * 2, capMs);
      return ms;
    },
    reset() {
      wait = firstMs;
    },
  };
}
