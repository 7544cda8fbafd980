import type { Ledger } from './ledger.js';
import { whereOf } from './where.js';

/**
 * The settlement write-ahead journal (table settlement_journal). One row per
 * attempt of one chain action (commit, or mint chunk N) of one interval:
 * planned → signed → broadcast → mined → final, or replaced (a fee bump took
 * its nonce) / reverted. A transaction is signed and stored (raw_tx, tx_hash,
 * nonce) before it is sent, so after a crash it is rebroadcast byte for byte,
 * and the next nonce comes from here, not from memory.
 */

export const JOURNAL_STATES = ['planned', 'signed', 'broadcast', 'mined', 'final', 'replaced', 'reverted'] as const;
export type JournalState = (typeof JOURNAL_STATES)[number];
export type JournalAction = 'commit' | 'mint';

export interface JournalRow {
  id: number;
  intervalStart: number;
  action: JournalAction;
  chunk: number;
  state: JournalState;
  chainId: number | null;
  nonce: number | null;
  txHash: `0x${string}` | null;
  rawTx: `0x${string}` | null;
  blockNumber: number | null;
  payload: string | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

const COLUMNS = `id, interval_start AS intervalStart, action, chunk, state, chain_id AS chainId, nonce, tx_hash AS txHash, raw_tx AS rawTx,
  block_number AS blockNumber, payload, error, created_at AS createdAt, updated_at AS updatedAt`;

export function insertJournalRow(
  ledger: Ledger,
  row: {
    intervalStart: number;
    action: JournalAction;
    chunk: number;
    state: JournalState;
    chainId: number;
    payload: string;
    nonce?: number;
    txHash?: string;
    rawTx?: string;
  },
  now: number,
): number {
  const r = ledger.db
    .prepare(
      `INSERT INTO settlement_journal (interval_start, action, chunk, state, chain_id, nonce, tx_hash, raw_tx, payload, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      row.intervalStart,
      row.action,
      row.chunk,
      row.state,
      row.chainId,
      row.nonce ?? null,
      row.txHash ?? null,
      row.rawTx ?? null,
      row.payload,
      now,
      now,
    );
  return Number(r.lastInsertRowid);
}

export function updateJournalRow(
  ledger: Ledger,
  id: number,
  patch: Partial<Pick<JournalRow, 'state' | 'nonce' | 'txHash' | 'rawTx' | 'blockNumber' | 'error'>>,
  now: number,
): void {
  const sets: string[] = ['updated_at = @now'];
  const cols: Record<string, string> = {
    state: 'state',
    nonce: 'nonce',
    txHash: 'tx_hash',
    rawTx: 'raw_tx',
    blockNumber: 'block_number',
    error: 'error',
  };
  for (const k of Object.keys(patch)) sets.push(`${cols[k]} = @${k}`);
  ledger.db.prepare(`UPDATE settlement_journal SET ${sets.join(', ')} WHERE id = @id`).run({ ...patch, id, now });
}

export function journalForInterval(ledger: Ledger, intervalStart: number): JournalRow[] {
  return ledger.db
    .prepare(`SELECT ${COLUMNS} FROM settlement_journal WHERE interval_start = ? ORDER BY id`)
    .all(intervalStart) as JournalRow[];
}

/** The live row (not replaced/reverted) of each action of an interval, commit first, then chunks in order. */
export function liveJournalRows(ledger: Ledger, intervalStart: number): JournalRow[] {
  return ledger.db
    .prepare(
      `SELECT ${COLUMNS} FROM settlement_journal WHERE interval_start = ? AND state NOT IN ('replaced', 'reverted') ORDER BY action = 'mint', chunk, id`,
    )
    .all(intervalStart) as JournalRow[];
}

/** Rows of one action that a fee bump replaced: one of them may still be the one that gets mined. */
export function replacedRows(
  ledger: Ledger,
  intervalStart: number,
  action: JournalAction,
  chunk: number,
): JournalRow[] {
  return ledger.db
    .prepare(
      `SELECT ${COLUMNS} FROM settlement_journal WHERE interval_start = ? AND action = ? AND chunk = ? AND state = 'replaced' ORDER BY id`,
    )
    .all(intervalStart, action, chunk) as JournalRow[];
}

/** The next nonce the journal knows of for a chain: one past the highest nonce it ever signed there (null: none). */
export function nextJournalNonce(ledger: Ledger, chainId: number): number | null {
  const r = ledger.db
    .prepare(
      `SELECT MAX(nonce) AS n FROM settlement_journal WHERE chain_id = ? AND nonce IS NOT NULL AND state IN ('signed','broadcast','mined','final')`,
    )
    .get(chainId) as { n: number | null };
  return r.n === null ? null : r.n + 1;
}

/**
 * Ids of the rows the journal believes are on chain `chainId` (mined or final), newest block first: a chain that loses
 * blocks loses the newest.
 */
export function onChainJournalIds(ledger: Ledger, chainId: number): number[] {
  return (
    ledger.db
      .prepare(
        `SELECT id FROM settlement_journal WHERE chain_id = ? AND state IN ('mined', 'final') ORDER BY block_number DESC, id DESC`,
      )
      .all(chainId) as { id: number }[]
  ).map((r) => r.id);
}

export function journalRowById(ledger: Ledger, id: number): JournalRow | undefined {
  return ledger.db.prepare(`SELECT ${COLUMNS} FROM settlement_journal WHERE id = ?`).get(id) as JournalRow | undefined;
}

/**
 * The newest mined or final row with a transaction of our own: checked every pass, it is the first to go when the chain
 * rolls back.
 */
export function newestOnChainRow(ledger: Ledger, chainId: number): JournalRow | undefined {
  return ledger.db
    .prepare(
      `SELECT ${COLUMNS} FROM settlement_journal WHERE chain_id = ? AND state IN ('mined', 'final') AND tx_hash IS NOT NULL ORDER BY block_number DESC, id DESC LIMIT 1`,
    )
    .get(chainId) as JournalRow | undefined;
}

/** When the submitter first planned an interval (its oldest journal row), or null. */
export function journalStartedAt(ledger: Ledger, intervalStart: number): number | null {
  return (
    ledger.db
      .prepare(`SELECT MIN(created_at) AS t FROM settlement_journal WHERE interval_start = ?`)
      .get(intervalStart) as { t: number | null }
  ).t;
}

/** How many journal rows are still on their way to final (planned, signed, broadcast or mined), for `mgx status`. */
export function countJournalInFlight(ledger: Ledger): number {
  return (
    ledger.db
      .prepare(
        "SELECT COUNT(*) AS n FROM settlement_journal WHERE state IN ('planned', 'signed', 'broadcast', 'mined')",
      )
      .get() as { n: number }
  ).n;
}

/** A journal row as the lists show it: without the signed transaction, nonce and payload. */
export interface JournalSummary {
  id: number;
  intervalStart: number;
  action: string;
  chunk: number;
  state: string;
  chainId: number | null;
  txHash: string | null;
  blockNumber: number | null;
  error: string | null;
  updatedAt: number;
}

/** Journal rows of one interval or a range, newest interval first. */
export function listJournal(
  ledger: Ledger,
  r: { start?: number; from?: number; to?: number; limit?: number } = {},
): JournalSummary[] {
  const w = whereOf([
    ['interval_start = ?', r.start],
    ['interval_start >= ?', r.from],
    ['interval_start < ?', r.to],
  ]);
  return ledger.db
    .prepare(
      `SELECT id, interval_start AS intervalStart, action, chunk, state, chain_id AS chainId, tx_hash AS txHash, block_number AS blockNumber, error, updated_at AS updatedAt
       FROM settlement_journal ${w.sql} ORDER BY interval_start DESC, id LIMIT ?`,
    )
    .all(...w.args, r.limit ?? 10000) as JournalSummary[];
}
