import type { Ledger } from './ledger.js';

/**
 * Puts an interval back in the settlement queue because the chain no longer
 * holds what made it committed or final (a chain rolled back, restored from a
 * backup, or an embedded chain that lost blocks). The one place an interval's
 * lifecycle goes back: `final`/`committed` → `settled`, its settlement
 * credits `queued` again; its statements and credits never change. The
 * journal rows say why (their `error`). Returns false when nothing moved.
 */
export function reopenSettlement(ledger: Ledger, start: number, at: number): boolean {
  return ledger.tx(() => {
    const credits = ledger.db
      .prepare(
        `UPDATE settlement_credits SET status = 'queued', updated_at = ? WHERE interval_start = ? AND status = 'final'`,
      )
      .run(at, start).changes;
    const iv = ledger.db
      .prepare(
        `UPDATE intervals SET state = 'settled', updated_at = ? WHERE start = ? AND state IN ('committed', 'final')`,
      )
      .run(at, start).changes;
    if (iv > 0)
      ledger.db
        .prepare(`DELETE FROM interval_transitions WHERE interval_start = ? AND state IN ('committed', 'final')`)
        .run(start);
    return credits + iv > 0;
  });
}
