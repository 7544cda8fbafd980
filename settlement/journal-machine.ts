import { MicrogridError } from '../core/errors.js';
import type { JournalState } from '../ledger/journal.js';

/**
 * The journal's states and the moves between them (docs/settlement.md, "The
 * submitter and its journal"). Pure: the submitter asks before it writes.
 *
 * - planned → signed (simulated, nonce taken, signed and stored), → mined
 *   (the contract has the action done already).
 * - signed → broadcast (sent), → reverted (its nonce was taken, its contract
 *   is gone, or it sits behind a nonce gap the node does not hold).
 * - broadcast → mined, → signed (the node dropped it: the same bytes again),
 *   → replaced (stuck: fees bumped under the same nonce), → reverted.
 * - replaced → broadcast: the replaced transaction was the one mined.
 * - mined → final at depth, → reverted (reorged out, or the chain lost it).
 * - final → reverted: the chain lost a block the ledger called final.
 * `reverted` ends a row; what follows is a new `planned` row.
 */
export const JOURNAL_MOVES: Readonly<Record<JournalState, readonly JournalState[]>> = {
  planned: ['signed', 'mined'],
  signed: ['broadcast', 'reverted'],
  broadcast: ['mined', 'signed', 'replaced', 'reverted'],
  replaced: ['broadcast'],
  mined: ['final', 'reverted'],
  final: ['reverted'],
  reverted: [],
};

/** The path of a row nothing goes wrong for (the crash tests kill the process after each). */
export const SETTLEMENT_STATES: readonly JournalState[] = ['planned', 'signed', 'broadcast', 'mined', 'final'];

export function canMove(from: JournalState, to: JournalState): boolean {
  return JOURNAL_MOVES[from].includes(to);
}

/** Throws SETTLEMENT_INVARIANT for a move the machine does not have: a bug, caught before the journal records it. */
export function assertMove(from: JournalState, to: JournalState): void {
  if (!canMove(from, to)) {
    throw new MicrogridError('SETTLEMENT_INVARIANT', 'journal row cannot make this move', {
      field: 'settlement_journal.state',
      value: `${from} → ${to}`,
      expected: `from ${from}: ${JOURNAL_MOVES[from].join(', ') || 'nothing (it has ended)'}`,
    });
  }
}
