/**
 * Meter data validation, estimation and holds (settlement/meter-data/). Every
 * interval energy gets a status (actual | estimated | held | partial), its
 * reasons (JSON [{code, message}]) and, when estimated, the method. The old
 * `quality` column stays for readers that still show it; nothing decides on
 * it. Rows written before this migration keep what their quality meant:
 * good → actual, anything else → held (they were settled already; the label
 * only tells a reader they were not validated).
 *
 * meter_data_holds is the operator's queue: one row per held meter-interval,
 * the decision (accept, replace, reject, or estimate when the window passed)
 * with who and why, and the later interval whose statements carry it as an
 * adjustment (a settled statement never changes).
 */
export const sql = `
ALTER TABLE interval_energy ADD COLUMN status TEXT NOT NULL DEFAULT 'actual' CHECK (status IN ('actual', 'estimated', 'held', 'partial'));
ALTER TABLE interval_energy ADD COLUMN reasons TEXT NOT NULL DEFAULT '[]';
ALTER TABLE interval_energy ADD COLUMN method TEXT;
UPDATE interval_energy SET status = CASE quality WHEN 'good' THEN 'actual' ELSE 'held' END;

CREATE TABLE meter_data_holds (
  interval_start    INTEGER NOT NULL,
  meter_id          TEXT NOT NULL REFERENCES meters(id),
  participant_id    TEXT NOT NULL REFERENCES participants(id),
  -- what the trusted counter gave while held (what accept makes actual)
  import_wh         INTEGER NOT NULL CHECK (import_wh >= 0),
  export_wh         INTEGER NOT NULL CHECK (export_wh >= 0),
  reasons           TEXT NOT NULL,
  held_at           INTEGER NOT NULL,
  decision          TEXT CHECK (decision IN ('accept', 'replace', 'reject', 'estimate')),
  decided_import_wh INTEGER CHECK (decided_import_wh >= 0),
  decided_export_wh INTEGER CHECK (decided_export_wh >= 0),
  -- actual (accepted), estimated (replaced or estimated), rejected
  decided_status    TEXT CHECK (decided_status IN ('actual', 'estimated', 'rejected')),
  method            TEXT,
  decided_by        TEXT,
  decision_reason   TEXT,
  decided_at        INTEGER,
  -- the interval whose statements carry the adjustment; null until applied
  applied_in        INTEGER,
  -- accepted export: the settlement_credits row (held interval start + n s) its credits are committed in
  credited_in       INTEGER,
  PRIMARY KEY (interval_start, meter_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX meter_data_holds_pending ON meter_data_holds(decision, interval_start);
CREATE INDEX meter_data_holds_applied ON meter_data_holds(applied_in);
`;
