import type { Ledger } from './ledger.js';
import type { ClearingKind, ClearingResult } from '../core/market.js';
import { canonicalJson } from '../core/canonical-json.js';
import { parseUtc } from '../core/interval.js';
import { MicrogridError } from '../core/errors.js';
import { prepared } from './prepared.js';
import { whereOf } from './where.js';

/** Clearing results (table clearing_results) and the trades they made (table trades). */

/**
 * Stores a ClearingResult and its trades in one transaction. Storing the same
 * result again is a no-op (a restarted step); a different result for an
 * interval already cleared is refused: clearing happens once.
 */
export function saveClearing(ledger: Ledger, result: ClearingResult, now: number): 'saved' | 'unchanged' {
  const start = parseUtc(result.interval, 'interval');
  const json = canonicalJson(result);
  return ledger.tx(() => {
    const existing = prepared(ledger, 'SELECT result FROM clearing_results WHERE interval_start = ? AND kind = ?').get(
      start,
      result.kind,
    ) as { result: string } | undefined;
    if (existing) {
      if (existing.result === json) return 'unchanged';
      throw new MicrogridError(
        'LEDGER_CONFLICT',
        `interval ${result.interval} already has a different ${result.kind} clearing result`,
        {
          field: 'interval',
          value: result.interval,
          expected: 'each interval cleared once per kind',
        },
      );
    }
    prepared(
      ledger,
      `INSERT INTO clearing_results (interval_start, kind, mechanism, params, clearing_price, matched_wh, surplus, result, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      start,
      result.kind,
      result.rules.mechanism,
      canonicalJson(result.rules),
      result.clearingPrice,
      result.matchedWh,
      result.surplus,
      json,
      now,
    );
    const insert = prepared(
      ledger,
      `INSERT INTO trades (interval_start, kind, seq, buyer_order, seller_order, buyer, seller, energy_wh, price, fee)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    result.trades.forEach((t, i) =>
      insert.run(start, result.kind, i, t.buyOrder, t.sellOrder, t.buyer, t.seller, t.energyWh, t.price, t.fee),
    );
    return 'saved';
  });
}

export function getClearing(ledger: Ledger, start: number, kind: ClearingKind): ClearingResult | undefined {
  const row = prepared(ledger, 'SELECT result FROM clearing_results WHERE interval_start = ? AND kind = ?').get(
    start,
    kind,
  ) as { result: string } | undefined;
  return row ? (JSON.parse(row.result) as ClearingResult) : undefined;
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
export function listClearings(
  ledger: Ledger,
  r: { from?: number; to?: number; start?: number; limit?: number; priced?: boolean } = {},
): ClearingSummary[] {
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

/** Energy the market matched per interval (both kinds), for "traded today". */
export function tradedWhBetween(ledger: Ledger, from: number, to: number): number {
  const row = ledger.db
    .prepare(
      'SELECT COALESCE(SUM(matched_wh), 0) AS wh FROM clearing_results WHERE interval_start >= ? AND interval_start < ?',
    )
    .get(from, to) as { wh: number };
  return row.wh;
}

/**
 * An interval's stored ClearingResults as stored (canonical JSON bytes), forward first: what the audit re-runs and
 * compares.
 */
export function listClearingResultJson(ledger: Ledger, start: number): { kind: ClearingKind; json: string }[] {
  return (
    prepared(ledger, 'SELECT kind, result FROM clearing_results WHERE interval_start = ? ORDER BY kind').all(start) as {
      kind: ClearingKind;
      result: string;
    }[]
  ).map((r) => ({
    kind: r.kind,
    json: r.result,
  }));
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
export function listTrades(
  ledger: Ledger,
  r: { start?: number; from?: number; to?: number; participantId?: string; limit?: number },
): TradeRow[] {
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

/** Every trade row of one interval, by kind and seq, without a limit (the audit compares them all with its re-run). */
export function listIntervalTrades(ledger: Ledger, start: number): Omit<TradeRow, 'intervalStart'>[] {
  return prepared(
    ledger,
    `SELECT kind, seq, buyer_order AS buyOrder, seller_order AS sellOrder, buyer, seller, energy_wh AS energyWh, price, fee
     FROM trades WHERE interval_start = ? ORDER BY kind, seq`,
  ).all(start) as Omit<TradeRow, 'intervalStart'>[];
}
