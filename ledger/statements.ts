import type { Ledger } from './ledger.js';
import { canonicalJson } from '../core/canonical-json.js';
import { toIso } from '../core/interval.js';
import { MicrogridError } from '../core/errors.js';

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

export function saveSettlement(ledger: Ledger, start: number, statements: readonly StatementRecord[], credits: Omit<SettlementCreditsRecord, 'status' | 'start'>, now: number): 'saved' | 'unchanged' {
  return ledger.tx(() => {
    const existing = getSettlementCredits(ledger, start);
    const creditsJson = canonicalJson(credits.credits);
    if (existing) {
      if (canonicalJson(existing.credits) === creditsJson && existing.tradesRoot === credits.tradesRoot && existing.readingsRoot === credits.readingsRoot) return 'unchanged';
      throw new MicrogridError('LEDGER_CONFLICT', `interval ${toIso(start)} is already settled with different credits`, { field: 'interval', value: toIso(start), expected: 'each interval settled once' });
    }
    const ins = ledger.db.prepare(
      `INSERT INTO statements (interval_start, participant_id, bought_wh, sold_wh, grid_import_wh, grid_export_wh, paid, received, fees, grid_amount, net, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const s of statements) ins.run(start, s.participant, s.boughtWh, s.soldWh, s.gridImportWh, s.gridExportWh, s.paid, s.received, s.fees, s.gridAmount, s.net, canonicalJson(s.detail));
    ledger.db
      .prepare(
        `INSERT INTO settlement_credits (interval_start, export_wh, matched_wh, trades_root, readings_root, rule_set, credits, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(start, credits.exportWh, credits.matchedWh, credits.tradesRoot, credits.readingsRoot, credits.ruleSet, creditsJson, credits.exportWh > 0 ? 'queued' : 'empty', now, now);
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

const fromRow = (r: CreditsRow): SettlementCreditsRecord => ({ ...r, credits: JSON.parse(r.credits) as CreditRecord[] });

export function getSettlementCredits(ledger: Ledger, start: number): SettlementCreditsRecord | undefined {
  const row = ledger.db.prepare(`SELECT ${CREDITS_COLUMNS} FROM settlement_credits WHERE interval_start = ?`).get(start) as CreditsRow | undefined;
  return row ? fromRow(row) : undefined;
}

/** Intervals waiting for the chain, oldest first: they settle in this order. */
export function listQueuedSettlements(ledger: Ledger): SettlementCreditsRecord[] {
  return (ledger.db.prepare(`SELECT ${CREDITS_COLUMNS} FROM settlement_credits WHERE status = 'queued' ORDER BY interval_start`).all() as CreditsRow[]).map(fromRow);
}

export function markSettlementFinal(ledger: Ledger, start: number, now: number): void {
  ledger.db.prepare(`UPDATE settlement_credits SET status = 'final', updated_at = ? WHERE interval_start = ? AND status = 'queued'`).run(now, start);
}

export function listStatements(ledger: Ledger, start: number): StatementRecord[] {
  const rows = ledger.db
    .prepare(
      `SELECT participant_id AS participant, bought_wh AS boughtWh, sold_wh AS soldWh, grid_import_wh AS gridImportWh, grid_export_wh AS gridExportWh,
              paid, received, fees, grid_amount AS gridAmount, net, detail
       FROM statements WHERE interval_start = ? ORDER BY participant_id`,
    )
    .all(start) as (Omit<StatementRecord, 'interval' | 'detail'> & { detail: string })[];
  return rows.map((r) => ({ ...r, interval: toIso(start), detail: JSON.parse(r.detail) as unknown }));
}
