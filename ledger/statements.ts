import type { Ledger } from './ledger.js';
import { canonicalJson } from '../core/canonical-json.js';
import { toIso } from '../core/interval.js';
import { MicrogridError } from '../core/errors.js';
import { whereOf } from './where.js';
import { prepared } from './prepared.js';

/**
 * Statements and credits of settled intervals. Written once per interval in
 * one transaction (settlement/settle.ts); writing the same again is a no-op,
 * writing different figures for an interval already settled is refused.
 */

export interface StatementRecord {
  interval: string;
  participant: string;
  boughtWh: number;
  soldWh: number;
  gridImportWh: number;
  gridExportWh: number;
  paid: string;
  received: string;
  fees: string;
  gridAmount: string;
  net: string;
  detail: unknown;
}

export interface CreditRecord {
  account: string;
  wh: number;
  participants: string[];
}

export interface SettlementCreditsRecord {
  start: number;
  exportWh: number;
  matchedWh: number;
  tradesRoot: `0x${string}`;
  readingsRoot: `0x${string}`;
  ruleSet: `0x${string}`;
  credits: CreditRecord[];
  status: 'queued' | 'final' | 'empty';
}

export function saveSettlement(
  ledger: Ledger,
  start: number,
  statements: readonly StatementRecord[],
  credits: Omit<SettlementCreditsRecord, 'status' | 'start'>,
  now: number,
): 'saved' | 'unchanged' {
  return ledger.tx(() => {
    const existing = getSettlementCredits(ledger, start);
    const creditsJson = canonicalJson(credits.credits);
    if (existing) {
      if (
        canonicalJson(existing.credits) === creditsJson &&
        existing.tradesRoot === credits.tradesRoot &&
        existing.readingsRoot === credits.readingsRoot
      )
        return 'unchanged';
      throw new MicrogridError(
        'LEDGER_CONFLICT',
        `interval ${toIso(start)} is already settled with different credits`,
        { field: 'interval', value: toIso(start), expected: 'each interval settled once' },
      );
    }
    const ins = ledger.db.prepare(
      `INSERT INTO statements (interval_start, participant_id, bought_wh, sold_wh, grid_import_wh, grid_export_wh, paid, received, fees, grid_amount, net, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const s of statements)
      ins.run(
        start,
        s.participant,
        s.boughtWh,
        s.soldWh,
        s.gridImportWh,
        s.gridExportWh,
        s.paid,
        s.received,
        s.fees,
        s.gridAmount,
        s.net,
        canonicalJson(s.detail),
      );
    ledger.db
      .prepare(
        `INSERT INTO settlement_credits (interval_start, export_wh, matched_wh, trades_root, readings_root, rule_set, credits, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        start,
        credits.exportWh,
        credits.matchedWh,
        credits.tradesRoot,
        credits.readingsRoot,
        credits.ruleSet,
        creditsJson,
        credits.exportWh > 0 ? 'queued' : 'empty',
        now,
        now,
      );
    return 'saved';
  });
}

interface CreditsRow {
  start: number;
  exportWh: number;
  matchedWh: number;
  tradesRoot: `0x${string}`;
  readingsRoot: `0x${string}`;
  ruleSet: `0x${string}`;
  credits: string;
  status: SettlementCreditsRecord['status'];
}

const CREDITS_COLUMNS = `interval_start AS start, export_wh AS exportWh, matched_wh AS matchedWh, trades_root AS tradesRoot,
  readings_root AS readingsRoot, rule_set AS ruleSet, credits, status`;

const fromRow = (r: CreditsRow): SettlementCreditsRecord => ({
  ...r,
  credits: JSON.parse(r.credits) as CreditRecord[],
});

export function getSettlementCredits(ledger: Ledger, start: number): SettlementCreditsRecord | undefined {
  const row = ledger.db
    .prepare(`SELECT ${CREDITS_COLUMNS} FROM settlement_credits WHERE interval_start = ?`)
    .get(start) as CreditsRow | undefined;
  return row ? fromRow(row) : undefined;
}

/**
 * The status of an interval's credits record alone. The interval cycle asks on every tick while an interval waits for
 * the chain; the whole record is megabytes of JSON at 10,000 households.
 */
export function getSettlementStatus(ledger: Ledger, start: number): SettlementCreditsRecord['status'] | undefined {
  return prepared(ledger, 'SELECT status FROM settlement_credits WHERE interval_start = ?').pluck().get(start) as
    SettlementCreditsRecord['status'] | undefined;
}

/** Intervals waiting for the chain, oldest first: they settle in this order. */
export function listQueuedSettlements(ledger: Ledger): SettlementCreditsRecord[] {
  return (
    ledger.db
      .prepare(`SELECT ${CREDITS_COLUMNS} FROM settlement_credits WHERE status = 'queued' ORDER BY interval_start`)
      .all() as CreditsRow[]
  ).map(fromRow);
}

/** How many intervals wait for the chain (for `mgx status`). */
export function countQueuedSettlements(ledger: Ledger): number {
  return (
    ledger.db.prepare("SELECT COUNT(*) AS n FROM settlement_credits WHERE status = 'queued'").get() as { n: number }
  ).n;
}

/** Starts of the intervals in [from, to) that were settled (have a credits record), oldest first. */
export function listSettledStarts(ledger: Ledger, from: number, to: number): number[] {
  return (
    ledger.db
      .prepare(
        'SELECT interval_start AS start FROM settlement_credits WHERE interval_start >= ? AND interval_start < ? ORDER BY interval_start',
      )
      .all(from, to) as { start: number }[]
  ).map((r) => r.start);
}

export function markSettlementFinal(ledger: Ledger, start: number, now: number): void {
  ledger.db
    .prepare(
      `UPDATE settlement_credits SET status = 'final', updated_at = ? WHERE interval_start = ? AND status = 'queued'`,
    )
    .run(now, start);
}

/** One interval's statements as settlement wrote them (with their detail), by participant. */
export function listIntervalStatements(ledger: Ledger, start: number): StatementRecord[] {
  // Prepared once per ledger (prepared.ts): the audit reads every interval's statements.
  const rows = prepared(
    ledger,
    `SELECT participant_id AS participant, bought_wh AS boughtWh, sold_wh AS soldWh, grid_import_wh AS gridImportWh, grid_export_wh AS gridExportWh,
            paid, received, fees, grid_amount AS gridAmount, net, detail
     FROM statements WHERE interval_start = ? ORDER BY participant_id`,
  ).all(start) as (Omit<StatementRecord, 'interval' | 'detail'> & { detail: string })[];
  const interval = toIso(start);
  return rows.map((r) => ({ ...r, interval, detail: JSON.parse(r.detail) as unknown }));
}

/** A statement as the lists show it: its figures without the detail. */
export interface StatementSummary {
  intervalStart: number;
  participantId: string;
  boughtWh: number;
  soldWh: number;
  gridImportWh: number;
  gridExportWh: number;
  paid: string;
  received: string;
  fees: string;
  gridAmount: string;
  net: string;
}

/** Statements of one interval or a range, optionally of one participant, newest first. */
export function listStatementSummaries(
  ledger: Ledger,
  r: { start?: number; from?: number; to?: number; participantId?: string; limit?: number },
): StatementSummary[] {
  const w = whereOf([
    ['interval_start = ?', r.start],
    ['interval_start >= ?', r.from],
    ['interval_start < ?', r.to],
    ['participant_id = ?', r.participantId],
  ]);
  return ledger.db
    .prepare(
      `SELECT interval_start AS intervalStart, participant_id AS participantId, bought_wh AS boughtWh, sold_wh AS soldWh,
              grid_import_wh AS gridImportWh, grid_export_wh AS gridExportWh, paid, received, fees, grid_amount AS gridAmount, net
       FROM statements ${w.sql} ORDER BY interval_start DESC, participant_id LIMIT ?`,
    )
    .all(...w.args, r.limit ?? 10000) as StatementSummary[];
}

export interface SettlementCreditsRow {
  intervalStart: number;
  exportWh: number;
  matchedWh: number;
  tradesRoot: string;
  readingsRoot: string;
  credits: { account: string; wh: number; participants: string[] }[];
  status: string;
}

/** The credits settlement computed per interval, newest first (table of migration 0003_settlement_credits). */
export function listSettlementCredits(
  ledger: Ledger,
  r: { start?: number; from?: number; to?: number; limit?: number },
): SettlementCreditsRow[] {
  const w = whereOf([
    ['interval_start = ?', r.start],
    ['interval_start >= ?', r.from],
    ['interval_start < ?', r.to],
  ]);
  const rows = ledger.db
    .prepare(
      `SELECT interval_start AS intervalStart, export_wh AS exportWh, matched_wh AS matchedWh, trades_root AS tradesRoot, readings_root AS readingsRoot, credits, status
       FROM settlement_credits ${w.sql} ORDER BY interval_start DESC LIMIT ?`,
    )
    .all(...w.args, r.limit ?? 10000) as (Omit<SettlementCreditsRow, 'credits'> & { credits: string })[];
  return rows.map((x) => ({ ...x, credits: JSON.parse(x.credits) as SettlementCreditsRow['credits'] }));
}
