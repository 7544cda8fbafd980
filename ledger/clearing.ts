import type { Ledger } from './ledger.js';
import type { ClearingKind, ClearingResult } from '../core/market.js';
import { canonicalJson } from '../core/canonical-json.js';
import { parseUtc } from '../core/interval.js';
import { MicrogridError } from '../core/errors.js';

/**
 * Stores a ClearingResult and its trades in one transaction. Storing the same
 * result again is a no-op (a restarted step); a different result for an
 * interval already cleared is refused: clearing happens once.
 */
export function saveClearing(ledger: Ledger, result: ClearingResult, now: number): 'saved' | 'unchanged' {
  const start = parseUtc(result.interval, 'interval');
  const json = canonicalJson(result);
  return ledger.tx(() => {
    const existing = ledger.db
      .prepare('SELECT result FROM clearing_results WHERE interval_start = ? AND kind = ?')
      .get(start, result.kind) as { result: string } | undefined;
    if (existing) {
      if (existing.result === json) return 'unchanged';
      throw new MicrogridError('LEDGER_CONFLICT', `interval ${result.interval} already has a different ${result.kind} clearing result`, {
        field: 'interval',
        value: result.interval,
        expected: 'each interval cleared once per kind',
      });
    }
    ledger.db
      .prepare(
        `INSERT INTO clearing_results (interval_start, kind, mechanism, params, clearing_price, matched_wh, surplus, result, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(start, result.kind, result.rules.mechanism, canonicalJson(result.rules), result.clearingPrice, result.matchedWh, result.surplus, json, now);
    const insert = ledger.db.prepare(
      `INSERT INTO trades (interval_start, kind, seq, buyer_order, seller_order, buyer, seller, energy_wh, price, fee)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    result.trades.forEach((t, i) => insert.run(start, result.kind, i, t.buyOrder, t.sellOrder, t.buyer, t.seller, t.energyWh, t.price, t.fee));
    return 'saved';
  });
}

export function getClearing(ledger: Ledger, start: number, kind: ClearingKind): ClearingResult | undefined {
  const row = ledger.db.prepare('SELECT result FROM clearing_results WHERE interval_start = ? AND kind = ?').get(start, kind) as { result: string } | undefined;
  return row ? (JSON.parse(row.result) as ClearingResult) : undefined;
}
