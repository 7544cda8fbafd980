/**
 * The first schema. Times are epoch milliseconds (UTC); interval starts are
 * aligned epoch milliseconds; prices and money are decimal strings (never
 * REAL); energy is integer Wh. STRICT tables make SQLite refuse a wrong type
 * instead of storing it.
 */
export const sql = `
CREATE TABLE participants (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  zone            TEXT NOT NULL,
  account         TEXT,
  min_sell_price  TEXT,
  max_buy_price   TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE meters (
  id              TEXT PRIMARY KEY,
  participant_id  TEXT NOT NULL REFERENCES participants(id),
  role            TEXT NOT NULL CHECK (role IN ('grid', 'pv')),
  device_id       TEXT,
  rated_power_w   INTEGER,
  -- EVM address of the gateway whose key signs this meter's readings
  gateway         TEXT
) STRICT;
CREATE INDEX meters_participant ON meters(participant_id);

CREATE TABLE readings (
  meter_id      TEXT NOT NULL REFERENCES meters(id),
  ts            INTEGER NOT NULL,
  power_w       REAL,
  import_wh     INTEGER,
  export_wh     INTEGER,
  voltage_v     REAL,
  frequency_hz  REAL,
  quality       TEXT NOT NULL CHECK (quality IN ('good', 'suspect', 'missing')),
  gateway       TEXT,
  signature     TEXT,
  received_at   INTEGER NOT NULL,
  PRIMARY KEY (meter_id, ts)
) STRICT, WITHOUT ROWID;

CREATE TABLE intervals (
  start       INTEGER PRIMARY KEY,
  state       TEXT NOT NULL CHECK (state IN ('open','closed','cleared','delivered','metered','settled','committed','final')),
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE interval_transitions (
  interval_start  INTEGER NOT NULL REFERENCES intervals(start),
  state           TEXT NOT NULL,
  at              INTEGER NOT NULL,
  PRIMARY KEY (interval_start, state)
) STRICT, WITHOUT ROWID;

CREATE TABLE interval_energy (
  interval_start   INTEGER NOT NULL,
  meter_id         TEXT NOT NULL REFERENCES meters(id),
  import_wh        INTEGER NOT NULL CHECK (import_wh >= 0),
  export_wh        INTEGER NOT NULL CHECK (export_wh >= 0),
  quality          TEXT NOT NULL CHECK (quality IN ('good', 'suspect', 'missing')),
  first_reading_ts INTEGER,
  last_reading_ts  INTEGER,
  PRIMARY KEY (interval_start, meter_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE orders (
  id              TEXT PRIMARY KEY,
  interval_start  INTEGER NOT NULL,
  participant_id  TEXT NOT NULL REFERENCES participants(id),
  side            TEXT NOT NULL CHECK (side IN ('bid', 'offer')),
  energy_wh       INTEGER NOT NULL CHECK (energy_wh > 0),
  price           TEXT NOT NULL,
  zone            TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  source          TEXT NOT NULL CHECK (source IN ('forward', 'metered')),
  status          TEXT NOT NULL CHECK (status IN ('open', 'cancelled', 'replaced', 'closed')),
  partners        TEXT,
  green_only      INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX orders_interval ON orders(interval_start, source, status);
CREATE INDEX orders_participant ON orders(participant_id, interval_start);

CREATE TABLE clearing_results (
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
) STRICT, WITHOUT ROWID;

CREATE TABLE trades (
  interval_start  INTEGER NOT NULL,
  kind            TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  buyer_order     TEXT NOT NULL,
  seller_order    TEXT NOT NULL,
  buyer           TEXT NOT NULL,
  seller          TEXT NOT NULL,
  energy_wh       INTEGER NOT NULL CHECK (energy_wh > 0),
  price           TEXT NOT NULL,
  fee             TEXT NOT NULL,
  PRIMARY KEY (interval_start, kind, seq),
  FOREIGN KEY (interval_start, kind) REFERENCES clearing_results(interval_start, kind)
) STRICT, WITHOUT ROWID;

CREATE TABLE statements (
  interval_start  INTEGER NOT NULL,
  participant_id  TEXT NOT NULL REFERENCES participants(id),
  bought_wh       INTEGER NOT NULL,
  sold_wh         INTEGER NOT NULL,
  grid_import_wh  INTEGER NOT NULL,
  grid_export_wh  INTEGER NOT NULL,
  paid            TEXT NOT NULL,
  received        TEXT NOT NULL,
  fees            TEXT NOT NULL,
  grid_amount     TEXT NOT NULL,
  net             TEXT NOT NULL,
  detail          TEXT NOT NULL,
  PRIMARY KEY (interval_start, participant_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE settlement_journal (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  interval_start  INTEGER NOT NULL,
  action          TEXT NOT NULL,
  chunk           INTEGER NOT NULL DEFAULT 0,
  state           TEXT NOT NULL CHECK (state IN ('planned', 'signed', 'broadcast', 'mined', 'final', 'replaced', 'reverted')),
  chain_id        INTEGER,
  nonce           INTEGER,
  tx_hash         TEXT,
  raw_tx          TEXT,
  block_number    INTEGER,
  payload         TEXT,
  error           TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX journal_interval ON settlement_journal(interval_start, action, chunk);
CREATE INDEX journal_state ON settlement_journal(state);

-- small facts the app must remember across restarts (contract addresses, gateway address)
CREATE TABLE kv (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) STRICT, WITHOUT ROWID;
`;
