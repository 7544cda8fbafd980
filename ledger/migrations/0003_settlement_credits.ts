/**
 * Settlement: the credits of each settled interval, with the roots that tie
 * them to trades and signed readings, and the queue position of the interval
 * on its way to the chain. The chain actions themselves are journalled in
 * settlement_journal (0001). Amounts are integer Wh; roots are 0x hex.
 */
export const sql = `
CREATE TABLE settlement_credits (
  interval_start  INTEGER PRIMARY KEY,
  export_wh       INTEGER NOT NULL CHECK (export_wh >= 0),
  matched_wh      INTEGER NOT NULL CHECK (matched_wh >= 0),
  trades_root     TEXT NOT NULL,
  readings_root   TEXT NOT NULL,
  rule_set        TEXT NOT NULL,
  -- [{account, wh, participants}] sorted by account, canonical JSON
  credits         TEXT NOT NULL,
  -- queued: waiting for the chain; final: every journal row final; empty: nothing to mint (no export)
  status          TEXT NOT NULL CHECK (status IN ('queued', 'final', 'empty')),
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX settlement_credits_status ON settlement_credits(status, interval_start);
`;
