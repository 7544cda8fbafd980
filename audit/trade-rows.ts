import type { ClearingResult } from '../core/market.js';
import type { EvidenceTrade } from './evidence.js';

/** The columns of a `trades` row, in the order a difference is named. */
const FIELDS = ['buyOrder', 'sellOrder', 'buyer', 'seller', 'energyWh', 'price', 'fee'] as const;

export interface TradeRowDifference {
  record: string;
  message: string;
  expected: string;
  found: string;
}

/**
 * Part of check 3: the ledger's `trades` rows (what households' trade lists
 * read) against the trades of the re-run clearings, row by row (kind, seq).
 * The rows are stored beside the canonical result, so re-running the result
 * alone would not see a row deleted, added or changed.
 */
export function compareTradeRows(
  rerun: readonly ClearingResult[],
  rows: readonly EvidenceTrade[],
): TradeRowDifference[] {
  const out: TradeRowDifference[] = [];
  const stored = new Map(rows.map((r) => [`${r.kind}:${r.seq}`, r]));
  const row = (t: Pick<EvidenceTrade, (typeof FIELDS)[number]>) => FIELDS.map((f) => `${f} ${t[f]}`).join(', ');
  for (const r of rerun) {
    r.trades.forEach((t, seq) => {
      const key = `${r.kind}:${seq}`;
      const s = stored.get(key);
      stored.delete(key);
      const record = `trades row ${r.kind} seq ${seq}`;
      if (!s) {
        out.push({
          record,
          message: 'trade of the re-run clearing is missing from the trades table',
          expected: row(t),
          found: 'no row',
        });
        return;
      }
      for (const f of FIELDS) {
        if (String(t[f]) === String(s[f])) continue;
        out.push({
          record: `${record} (${f})`,
          message: 'trades row differs from the trade of the re-run clearing',
          expected: String(t[f]),
          found: String(s[f]),
        });
      }
    });
  }
  for (const s of stored.values())
    out.push({
      record: `trades row ${s.kind} seq ${s.seq}`,
      message: 'trades row that no re-run clearing produced',
      expected: 'no row',
      found: row(s),
    });
  return out;
}
