import type { Ledger } from '../ledger/ledger.js';
import { toIso } from '../core/interval.js';
import { listQueuedSettlements } from '../ledger/statements.js';
import { journalStartedAt, liveJournalRows } from '../ledger/journal.js';
import type { JournalWrites } from './journal-writes.js';

/** kv key of the stall `mgx status` shows (empty: none). */
export const STALLED_KEY = 'settlement.stalled';

export interface StalledRecord {
  start: number;
  interval: string;
  /** Wall time (ms) since which the interval waits on the chain. */
  since: number;
  stalledAfterSeconds: number;
  /** Its journal rows not yet final, with their state and last error. */
  waiting: string;
}

/**
 * Raises `stalled` once when the head of the queue has waited on the chain
 * longer than `stalledAfterMs` (wall time, since its first journal row), with
 * what each of its rows waits for as the cause; `resumed` when it moves on.
 * The record is kept in the kv table, so a stall outlives a restart and
 * `mgx status` shows it.
 */
export class StallWatch {
  readonly #ledger: Ledger;
  readonly #journal: JournalWrites;
  readonly #now: () => number;
  readonly #stalledAfterMs: number;
  #waiting: { start: number; since: number } | undefined;
  #stalled: number | null | undefined;

  constructor(opts: { ledger: Ledger; journal: JournalWrites; now: () => number; stalledAfterMs: number }) {
    this.#ledger = opts.ledger;
    this.#journal = opts.journal;
    this.#now = opts.now;
    this.#stalledAfterMs = opts.stalledAfterMs;
  }

  check(): void {
    const ledger = this.#ledger;
    if (this.#stalled === undefined) {
      // a stall the last run reported stays reported until its interval goes through
      const kept = ledger.getKv(STALLED_KEY);
      this.#stalled = kept ? (JSON.parse(kept) as StalledRecord).start : null;
    }
    const head = listQueuedSettlements(ledger)[0];
    const now = this.#now();
    if (this.#stalled !== null && this.#stalled !== head?.start) {
      const start = this.#stalled;
      this.#stalled = null;
      ledger.setKv(STALLED_KEY, '');
      this.#journal.emit(start, 'resumed', null);
    }
    if (!head) {
      this.#waiting = undefined;
      return;
    }
    if (this.#waiting?.start !== head.start)
      this.#waiting = { start: head.start, since: Math.min(now, journalStartedAt(ledger, head.start) ?? now) };
    if (this.#stalled === head.start || now - this.#waiting.since <= this.#stalledAfterMs) return;
    this.#stalled = head.start;
    const live = liveJournalRows(ledger, head.start);
    const rec: StalledRecord = {
      start: head.start,
      interval: toIso(head.start),
      since: this.#waiting.since,
      stalledAfterSeconds: this.#stalledAfterMs / 1000,
      waiting:
        live
          .filter((r) => r.state !== 'final')
          .map(
            (r) =>
              `${r.action}:${r.chunk} ${r.state}${r.nonce !== null ? ` nonce ${r.nonce}` : ''}${r.error ? ` (${r.error})` : ''}`,
          )
          .join('; ') || 'not planned yet',
    };
    ledger.setKv(STALLED_KEY, JSON.stringify(rec));
    this.#journal.emit(head.start, 'stalled', null, rec.waiting);
  }
}
