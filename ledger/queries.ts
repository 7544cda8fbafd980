import type { Ledger } from './ledger.js';
import type { ClearingKind } from '../core/market.js';
import { stateRank, type IntervalState } from '../core/interval-state.js';

/**
 * Read-only queries the dashboard needs, one function per question. Rows come
 * back in camelCase with the ledger's units (epoch ms, integer Wh, decimal
 * strings); the routes turn times into ISO strings.
 */

type Arg = string | number;

function whereOf(parts: [string, Arg | undefined][]): { sql: string; args: Arg[] } {
  const used = parts.filter((p): p is [string, Arg] => p[1] !== undefined);
  return { sql: used.length ? 'WHERE ' + used.map((p) => p[0]).join(' AND ') : '', args: used.map((p) => p[1]) };
}

export interface ClearingSummary {
  intervalStart: number;
  kind: ClearingKind;
  mechanism: string;
  clearingPrice: string | null;
  matchedWh: number;
  surplus: string;
  trades: number;
  createdAt: number;
}

/** Clearing results, newest first; `priced` keeps only those with a clearing price. */
export function listClearings(ledger: Ledger, r: { from?: number; to?: number; start?: number; limit?: number; priced?: boolean } = {}): ClearingSummary[] {
  const w = whereOf([
    ['c.interval_start >= ?', r.from],
    ['c.interval_start < ?', r.to],
    ['c.interval_start = ?', r.start],
  ]);
  if (r.priced) w.sql += (w.sql ? ' AND ' : 'WHERE ') + 'c.clearing_price IS NOT NULL';
  return ledger.db
    .prepare(
      `SELECT c.interval_start AS intervalStart, c.kind, c.mechanism, c.clearing_price AS clearingPrice, c.matched_wh AS matchedWh, c.surplus,
              c.created_at AS createdAt,
              (SELECT COUNT(*) FROM trades t WHERE t.interval_start = c.interval_start AND t.kind = c.kind) AS trades
       FROM clearing_results c ${w.sql} ORDER BY c.interval_start DESC, c.kind LIMIT ?`,
    )
    .all(...w.args, r.limit ?? 5000) as ClearingSummary[];
}

export interface TransitionRow {
  state: IntervalState;
  at: number;
}

/** The interval's lifecycle steps in lifecycle order (several may share one timestamp). */
export function listTransitions(ledger: Ledger, start: number): TransitionRow[] {
  const rows = ledger.db.prepare('SELECT state, at FROM interval_transitions WHERE interval_start = ?').all(start) as TransitionRow[];
  return rows.sort((a, b) => stateRank(a.state) - stateRank(b.state));
}

export interface TradeRow {
  intervalStart: number;
  kind: ClearingKind;
  seq: number;
  buyOrder: string;
  sellOrder: string;
  buyer: string;
  seller: string;
  energyWh: number;
  price: string;
  fee: string;
}

/** Trades in a range or of one interval; with `participantId`, only those it bought or sold in. */
export function listTrades(ledger: Ledger, r: { start?: number; from?: number; to?: number; participantId?: string; limit?: number }): TradeRow[] {
  const w = whereOf([
    ['interval_start = ?', r.start],
    ['interval_start >= ?', r.from],
    ['interval_start < ?', r.to],
  ]);
  let sql = w.sql;
  const args = [...w.args];
  if (r.participantId !== undefined) {
    sql += (sql ? ' AND ' : 'WHERE ') + '(buyer = ? OR seller = ?)';
    args.push(r.participantId, r.participantId);
  }
  return ledger.db
    .prepare(
      `SELECT interval_start AS intervalStart, kind, seq, buyer_order AS buyOrder, seller_order AS sellOrder, buyer, seller, energy_wh AS energyWh, price, fee
       FROM trades ${sql} ORDER BY interval_start DESC, kind, seq LIMIT ?`,
    )
    .all(...args, r.limit ?? 10000) as TradeRow[];
}

/** Energy the market matched per interval (both kinds), for "traded today". */
export function tradedWhBetween(ledger: Ledger, from: number, to: number): number {
  const row = ledger.db.prepare('SELECT COALESCE(SUM(matched_wh), 0) AS wh FROM clearing_results WHERE interval_start >= ? AND interval_start < ?').get(from, to) as { wh: number };
  return row.wh;
}

export interface StatementRow {
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

export function listStatements(ledger: Ledger, r: { start?: number; from?: number; to?: number; participantId?: string; limit?: number }): StatementRow[] {
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
    .all(...w.args, r.limit ?? 10000) as StatementRow[];
}

export interface JournalRow {
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

export function listJournal(ledger: Ledger, r: { start?: number; from?: number; to?: number; limit?: number } = {}): JournalRow[] {
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
    .all(...w.args, r.limit ?? 10000) as JournalRow[];
}

export interface EnergyBucketRow {
  bucketStart: number;
  meterId: string | null;
  gridImportWh: number;
  gridExportWh: number;
  pvWh: number;
  /** Meters whose interval energy was flagged (suspect or missing) in the bucket. */
  flagged: number;
}

/**
 * Interval energy summed into buckets of `bucketMs` (aligned to UTC epoch
 * multiples). Grid meters give import and export, pv meters give generation
 * (their export counter). `meterIds` limits the sum to those meters (a
 * household's own); `perMeter` keeps one row per meter and bucket.
 */
export function energyHistory(ledger: Ledger, r: { from: number; to: number; bucketMs: number; meterIds?: string[]; perMeter?: boolean }): EnergyBucketRow[] {
  const args: Arg[] = [r.bucketMs, r.from, r.to];
  let filter = '';
  if (r.meterIds) {
    if (r.meterIds.length === 0) return [];
    filter = ` AND e.meter_id IN (${r.meterIds.map(() => '?').join(',')})`;
    args.push(...r.meterIds);
  }
  const byMeter = r.perMeter ? ', e.meter_id' : '';
  return ledger.db
    .prepare(
      `SELECT e.interval_start - (e.interval_start % ?) AS bucketStart, ${r.perMeter ? 'e.meter_id' : 'NULL'} AS meterId,
              COALESCE(SUM(CASE WHEN m.role = 'grid' THEN e.import_wh ELSE 0 END), 0) AS gridImportWh,
              COALESCE(SUM(CASE WHEN m.role = 'grid' THEN e.export_wh ELSE 0 END), 0) AS gridExportWh,
              COALESCE(SUM(CASE WHEN m.role = 'pv' THEN e.export_wh ELSE 0 END), 0) AS pvWh,
              SUM(CASE WHEN e.status IN ('actual', 'partial') THEN 0 ELSE 1 END) AS flagged
       FROM interval_energy e JOIN meters m ON m.id = e.meter_id
       WHERE e.interval_start >= ? AND e.interval_start < ?${filter}
       GROUP BY bucketStart${byMeter} ORDER BY bucketStart${byMeter}`,
    )
    .all(...args) as EnergyBucketRow[];
}

export interface IntervalEnergyRow {
  meterId: string;
  participantId: string;
  role: 'grid' | 'pv';
  importWh: number;
  exportWh: number;
  quality: string;
  /** actual | estimated | held | partial (settlement/meter-data). */
  status: string;
  reasons: { code: string; message: string }[];
  method: string | null;
  firstReadingTs: number | null;
  lastReadingTs: number | null;
}

export function intervalEnergy(ledger: Ledger, start: number, participantId?: string): IntervalEnergyRow[] {
  const sql = `SELECT e.meter_id AS meterId, m.participant_id AS participantId, m.role, e.import_wh AS importWh, e.export_wh AS exportWh, e.quality,
                      e.status, e.reasons, e.method, e.first_reading_ts AS firstReadingTs, e.last_reading_ts AS lastReadingTs
               FROM interval_energy e JOIN meters m ON m.id = e.meter_id WHERE e.interval_start = ?${participantId === undefined ? '' : ' AND m.participant_id = ?'}
               ORDER BY e.meter_id`;
  const stmt = ledger.db.prepare(sql);
  const rows = (participantId === undefined ? stmt.all(start) : stmt.all(start, participantId)) as (Omit<IntervalEnergyRow, 'reasons'> & { reasons: string })[];
  return rows.map((r) => ({ ...r, reasons: JSON.parse(r.reasons) as IntervalEnergyRow['reasons'] }));
}

export interface ReadingRow {
  meterId: string;
  ts: number;
  powerW: number | null;
  importWh: number | null;
  exportWh: number | null;
  quality: string;
  gateway: string | null;
  signature: string | null;
}

/** Readings in [from, to], for the auditor's drill-down (bounded by `limit`). */
export function listReadings(ledger: Ledger, r: { from: number; to: number; meterIds?: string[]; limit?: number }): ReadingRow[] {
  const args: Arg[] = [r.from, r.to];
  let filter = '';
  if (r.meterIds) {
    if (r.meterIds.length === 0) return [];
    filter = ` AND meter_id IN (${r.meterIds.map(() => '?').join(',')})`;
    args.push(...r.meterIds);
  }
  return ledger.db
    .prepare(
      `SELECT meter_id AS meterId, ts, power_w AS powerW, import_wh AS importWh, export_wh AS exportWh, quality, gateway, signature
       FROM readings WHERE ts >= ? AND ts <= ?${filter} ORDER BY ts, meter_id LIMIT ?`,
    )
    .all(...args, r.limit ?? 5000) as ReadingRow[];
}

export interface BookOrderRow {
  side: 'bid' | 'offer';
  price: string;
  energyWh: number;
  participant: string;
}

/** The orders that made (or will make) an interval's book: open or closed, not cancelled or replaced. */
export function bookOrders(ledger: Ledger, start: number, source: 'forward' | 'metered'): BookOrderRow[] {
  return ledger.db
    .prepare(`SELECT side, price, energy_wh AS energyWh, participant_id AS participant FROM orders WHERE interval_start = ? AND source = ? AND status IN ('open', 'closed')`)
    .all(start, source) as BookOrderRow[];
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

/** The credits settlement computed per interval (table of migration 0003_settlement_credits). */
export function listSettlementCredits(ledger: Ledger, r: { start?: number; from?: number; to?: number; limit?: number }): SettlementCreditsRow[] {
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
