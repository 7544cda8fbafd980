/**
 * Orders the engine excluded at gate closure (issue 13): status `rejected`
 * with the reason, so an order that could not clear is neither traded nor
 * silently lost, and the audit's re-run (closed forward orders) never sees
 * it. SQLite cannot change a CHECK constraint in place: the table is rebuilt,
 * its rows and indexes kept.
 */
export const sql = `
CREATE TABLE orders_new (
  id              TEXT PRIMARY KEY,
  interval_start  INTEGER NOT NULL,
  participant_id  TEXT NOT NULL REFERENCES participants(id),
  side            TEXT NOT NULL CHECK (side IN ('bid', 'offer')),
  energy_wh       INTEGER NOT NULL CHECK (energy_wh > 0),
  price           TEXT NOT NULL,
  zone            TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  source          TEXT NOT NULL CHECK (source IN ('forward', 'metered')),
  status          TEXT NOT NULL CHECK (status IN ('open', 'cancelled', 'replaced', 'closed', 'rejected')),
  partners        TEXT,
  green_only      INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  rejected_reason TEXT,
  CHECK ((status = 'rejected') = (rejected_reason IS NOT NULL))
) STRICT;
INSERT INTO orders_new (id, interval_start, participant_id, side, energy_wh, price, zone, seq, source, status, partners, green_only, created_at)
  SELECT id, interval_start, participant_id, side, energy_wh, price, zone, seq, source, status, partners, green_only, created_at FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_interval ON orders(interval_start, source, status);
CREATE INDEX orders_participant ON orders(participant_id, interval_start);
`;
