import type { Ledger } from '../ledger/ledger.js';
import type { EventBus } from '../core/events.js';
import { toIso } from '../core/interval.js';
import {
  insertJournalRow,
  liveJournalRows,
  updateJournalRow,
  type JournalAction,
  type JournalRow,
  type JournalState,
} from '../ledger/journal.js';
import { reopenSettlement } from '../ledger/reopen.js';
import { assertMove } from './journal-machine.js';

export type JournalPatch = Partial<Pick<JournalRow, 'state' | 'nonce' | 'txHash' | 'rawTx' | 'blockNumber' | 'error'>>;

export interface JournalWritesOptions {
  ledger: Ledger;
  chainId: number;
  /** Wall time, for the rows' timestamps. */
  now: () => number;
  events?: EventBus | undefined;
  /** Called after every journal write (the crash tests kill the process here). */
  onJournal?: ((row: JournalRow) => void) | undefined;
}

/**
 * Every write the submitter makes to its journal, each move checked against
 * the journal machine first, each announced on the bus (`settlement-state`,
 * with the row's error as the event's detail when it ends a row).
 */
export class JournalWrites {
  readonly #o: JournalWritesOptions;

  constructor(opts: JournalWritesOptions) {
    this.#o = opts;
  }

  /** The commit row and one row per mint chunk, in one transaction. */
  plan(
    intervalStart: number,
    rows: readonly { action: JournalAction; chunk: number; payload: string }[],
  ): JournalRow[] {
    const now = this.#o.now();
    this.#o.ledger.tx(() => {
      for (const r of rows)
        insertJournalRow(this.#o.ledger, { intervalStart, ...r, state: 'planned', chainId: this.#o.chainId }, now);
    });
    const live = liveJournalRows(this.#o.ledger, intervalStart);
    for (const r of live) this.#journal(r);
    this.emit(intervalStart, 'planned', null);
    return live;
  }

  update(r: JournalRow, patch: JournalPatch): JournalRow {
    const moves = patch.state !== undefined && patch.state !== r.state;
    if (moves) assertMove(r.state, patch.state!);
    const now = this.#o.now();
    updateJournalRow(this.#o.ledger, r.id, patch, now);
    const next = { ...r, ...patch, updatedAt: moves ? now : r.updatedAt };
    if (moves) {
      this.#journal(next);
      // broadcast, mined and final are announced by their callers (after the step that earned them)
      if (patch.state !== 'broadcast' && patch.state !== 'mined' && patch.state !== 'final')
        this.emit(r.intervalStart, `${r.action}:${r.chunk}:${patch.state}`, next.txHash, patch.error ?? undefined);
    }
    return next;
  }

  /**
   * Ends a row (unless it has ended already) and plans the same action again; the planned path asks the contract first.
   */
  replan(r: JournalRow, error: string | null): JournalRow {
    if (r.state !== 'reverted') assertMove(r.state, 'reverted');
    const now = this.#o.now();
    let id = 0;
    this.#o.ledger.tx(() => {
      if (r.state !== 'reverted')
        updateJournalRow(this.#o.ledger, r.id, { state: 'reverted', ...(error ? { error } : {}) }, now);
      id = insertJournalRow(
        this.#o.ledger,
        {
          intervalStart: r.intervalStart,
          action: r.action,
          chunk: r.chunk,
          state: 'planned',
          chainId: this.#o.chainId,
          payload: r.payload!,
        },
        now,
      );
    });
    this.#journal({ ...r, state: 'reverted', ...(error ? { error } : {}) });
    const planned: JournalRow = {
      ...r,
      id,
      state: 'planned',
      nonce: null,
      txHash: null,
      rawTx: null,
      blockNumber: null,
      error: null,
      createdAt: now,
      updatedAt: now,
    };
    this.#journal(planned);
    return planned;
  }

  /**
   * Ends a row the chain lost and plans its action again; a final interval goes back to the queue (ledger/reopen.ts).
   */
  reopen(r: JournalRow, reason: string): void {
    assertMove(r.state, 'reverted');
    const now = this.#o.now();
    this.#o.ledger.tx(() => {
      this.replan(r, reason);
      reopenSettlement(this.#o.ledger, r.intervalStart, now);
    });
    this.emit(r.intervalStart, `${r.action}:${r.chunk}:reorged`, r.txHash, reason);
  }

  /** Ends a row and records the same action in `state` without a transaction of ours (found done on chain). */
  supersede(r: JournalRow, state: JournalState, reason: string): void {
    assertMove(r.state, 'reverted');
    const now = this.#o.now();
    this.#o.ledger.tx(() => {
      updateJournalRow(this.#o.ledger, r.id, { state: 'reverted', error: reason }, now);
      const id = insertJournalRow(
        this.#o.ledger,
        {
          intervalStart: r.intervalStart,
          action: r.action,
          chunk: r.chunk,
          state,
          chainId: this.#o.chainId,
          payload: r.payload!,
        },
        now,
      );
      updateJournalRow(this.#o.ledger, id, { blockNumber: r.blockNumber, error: 'found done on chain' }, now);
    });
  }

  /** A stuck row ends as `replaced`; its same-nonce successor (higher fees, signed and stored) is returned. */
  replace(r: JournalRow, signed: { rawTx: `0x${string}`; txHash: `0x${string}` }, reason: string): JournalRow {
    assertMove(r.state, 'replaced');
    const now = this.#o.now();
    let id = 0;
    this.#o.ledger.tx(() => {
      updateJournalRow(this.#o.ledger, r.id, { state: 'replaced', error: reason }, now);
      id = insertJournalRow(
        this.#o.ledger,
        {
          intervalStart: r.intervalStart,
          action: r.action,
          chunk: r.chunk,
          state: 'signed',
          chainId: this.#o.chainId,
          payload: r.payload!,
          nonce: r.nonce!,
          ...signed,
        },
        now,
      );
    });
    this.#journal({ ...r, state: 'replaced' });
    const next: JournalRow = { ...r, id, state: 'signed', ...signed, error: null, createdAt: now, updatedAt: now };
    this.#journal(next);
    this.emit(r.intervalStart, `${r.action}:${r.chunk}:replaced`, signed.txHash, reason);
    return next;
  }

  /** The replaced transaction `winner` was the one mined under `r`'s nonce: it goes on, `r` ends as replaced. */
  minedAsReplaced(r: JournalRow, winner: JournalRow): JournalRow {
    assertMove(r.state, 'replaced');
    assertMove(winner.state, 'broadcast');
    const now = this.#o.now();
    this.#o.ledger.tx(() => {
      updateJournalRow(
        this.#o.ledger,
        r.id,
        { state: 'replaced', error: `nonce ${r.nonce} mined as ${winner.txHash}` },
        now,
      );
      updateJournalRow(this.#o.ledger, winner.id, { state: 'broadcast' }, now);
    });
    return { ...winner, state: 'broadcast' };
  }

  emit(start: number, state: string, txHash: string | null, detail?: string): void {
    this.#o.events?.emit({
      type: 'settlement-state',
      interval: start ? toIso(start) : '',
      state,
      txHash,
      ...(detail ? { detail: detail.slice(0, 500) } : {}),
    });
  }

  #journal(row: JournalRow): void {
    this.#o.onJournal?.(row);
  }
}
