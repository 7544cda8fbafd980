/**
 * clearing_results as a rowid table (it was WITHOUT ROWID). A metered result's canonical JSON is megabytes at 10,000
 * households, and in a WITHOUT ROWID table that JSON lives in the primary key's b-tree cells: each seek compares
 * against whole cells, reading their overflow chains. Every trade row's foreign key check is such a seek, so storing
 * ~3,900 trades read gigabytes and took 0.4–9 s of CPU, depending on where the seek landed in the tree (the bimodal
 * intervals of bench:microgrid at 10,000 households). With a rowid table the key (interval_start, kind) is in its own
 * small index, which is all the check reads. SQLite's own advice: WITHOUT ROWID suits rows under ~1/20 of a page.
 *
 * Columns, values and the primary key are unchanged; the rows are copied as they are. SQLite cannot change this in
 * place, so the table is rebuilt with foreign keys off (trades reference it), as SQLite's ALTER TABLE documentation
 * prescribes; the runner checks every foreign key before it commits.
 */
export const sql = `
CREATE TABLE clearing_results_new (
  interval_start  INTEGER NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('forward', 'metered')),
  mechanism       TEXT NOT NULL,
  params          TEXT NOT NULL,
  clearing_price  TEXT,
  matched_wh      INTEGER NOT NULL CHECK (matched_wh >= 0),
  surplus         TEXT NOT NULL,
  -- the whole ClearingResult as canonical JSON, byte for byte what the engine returned
  result          TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (interval_start, kind)
) STRICT;
INSERT INTO clearing_results_new (interval_start, kind, mechanism, params, clearing_price, matched_wh, surplus, result, created_at)
  SELECT interval_start, kind, mechanism, params, clearing_price, matched_wh, surplus, result, created_at FROM clearing_results;
DROP TABLE clearing_results;
ALTER TABLE clearing_results_new RENAME TO clearing_results;
`;
