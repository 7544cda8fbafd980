import type { Ledger } from './ledger.js';
import { assertTransition, stateRank, type IntervalState } from '../core/interval-state.js';
import { toIso } from '../core/interval.js';
import { whereOf } from './where.js';

export interface IntervalRow {
  start: number;
  state: IntervalState;
  updatedAt: number;
}

export function getInterval(ledger: Ledger, start: number): IntervalRow | undefined {
  return ledger.db.prepare('SELECT start, state, updated_at AS updatedAt FROM intervals WHERE start = ?').get(start) as
    IntervalRow | undefined;
}

/**
 * Moves an interval one step along its lifecycle, recording when. `effects`
 * runs in the same transaction, so a step's results and the state that says
 * it happened are written together: after a crash either both are there or
 * neither is, and the step is redone exactly once.
 * Returns false when the interval was already in `to` (nothing done).
 */
export function advanceInterval(
  ledger: Ledger,
  start: number,
  to: IntervalState,
  at: number,
  effects?: () => void,
): boolean {
  return ledger.tx(() => {
    const row = getInterval(ledger, start);
    if (!row) {
      if (to !== 'open') assertTransition('open', to, toIso(start));
      ledger.db.prepare('INSERT INTO intervals (start, state, updated_at) VALUES (?, ?, ?)').run(start, 'open', at);
      ledger.db
        .prepare('INSERT INTO interval_transitions (interval_start, state, at) VALUES (?, ?, ?)')
        .run(start, 'open', at);
      if (to === 'open') {
        effects?.();
        return true;
      }
    } else if (row.state === to) {
      return false;
    }
    assertTransition(row?.state ?? 'open', to, toIso(start));
    effects?.();
    ledger.db.prepare('UPDATE intervals SET state = ?, updated_at = ? WHERE start = ?').run(to, at, start);
    ledger.db
      .prepare('INSERT OR REPLACE INTO interval_transitions (interval_start, state, at) VALUES (?, ?, ?)')
      .run(start, to, at);
    return true;
  });
}

export function listIntervals(
  ledger: Ledger,
  opts: { from?: number; to?: number; state?: IntervalState; limit?: number } = {},
): IntervalRow[] {
  const where = whereOf([
    ['start >= ?', opts.from],
    ['start < ?', opts.to],
    ['state = ?', opts.state],
  ]);
  const sql = `SELECT start, state, updated_at AS updatedAt FROM intervals ${where.sql} ORDER BY start DESC LIMIT ?`;
  return ledger.db.prepare(sql).all(...where.args, opts.limit ?? 1000) as IntervalRow[];
}

/** Counts of intervals per lifecycle state (for `mgx status` and /metrics). */
export function countIntervalsByState(ledger: Ledger): Partial<Record<IntervalState, number>> {
  const rows = ledger.db.prepare('SELECT state, COUNT(*) AS n FROM intervals GROUP BY state').all() as {
    state: IntervalState;
    n: number;
  }[];
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

/** Starts of the intervals not yet final, oldest first: what the interval cycle still has to advance. */
export function listStartsNotFinal(ledger: Ledger): number[] {
  return (
    ledger.db.prepare("SELECT start FROM intervals WHERE state != 'final' ORDER BY start").all() as { start: number }[]
  ).map((r) => r.start);
}

/** The newest interval's start (of those in `state`, when given), or null when there is none. */
export function latestIntervalStart(ledger: Ledger, state?: IntervalState): number | null {
  const row = (
    state === undefined
      ? ledger.db.prepare('SELECT MAX(start) AS s FROM intervals').get()
      : ledger.db.prepare('SELECT MAX(start) AS s FROM intervals WHERE state = ?').get(state)
  ) as { s: number | null };
  return row.s;
}

export interface TransitionRow {
  state: IntervalState;
  at: number;
}

/** The interval's lifecycle steps in lifecycle order (several may share one timestamp). */
export function listTransitions(ledger: Ledger, start: number): TransitionRow[] {
  const rows = ledger.db
    .prepare('SELECT state, at FROM interval_transitions WHERE interval_start = ?')
    .all(start) as TransitionRow[];
  return rows.sort((a, b) => stateRank(a.state) - stateRank(b.state));
}
