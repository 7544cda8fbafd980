import type { Ledger } from './ledger.js';
import type { ReadingRow } from './readings.js';
import { MicrogridError } from '../core/errors.js';
import { toIso } from '../core/interval.js';
import { canonicalJson } from '../core/canonical-json.js';
import { prepared } from './prepared.js';

/**
 * Storage of validated meter data (settlement/meter-data/ decides, this
 * stores): the readings a meter's series is validated on, interval energies
 * with their status, reasons and method, and the operator's queue of held
 * meter-intervals with each decision (who, why, when) and the later interval
 * whose statements carry it.
 */

export type MeterDataStatusValue = 'actual' | 'estimated' | 'held' | 'partial';

export interface MeterSeriesReading {
  ts: number;
  importWh: number | null;
  exportWh: number | null;
  powerW: number | null;
  quality: string;
}

/**
 * How many readings beyond the time window are included on each side (a lasting glitch must not be the series' anchor).
 */
export const SERIES_EXTRA_READINGS = 5;

/** `received_by` when a step recorded none (rows metered before the cut-off existed): every stored reading counts. */
export const NO_CUTOFF = Number.MAX_SAFE_INTEGER;

/**
 * The readings a meter-interval is validated on: every reading with
 * start − lookMs ≤ ts ≤ end + lookMs, plus the SERIES_EXTRA_READINGS before
 * and after that window — of the readings received by `receivedBy` (the
 * metering step's cut-off, ledger/readings-cutoff.ts). The audit selects the
 * same (its evidence loader).
 */
export function meterSeriesReadings(
  ledger: Ledger,
  meterId: string,
  start: number,
  end: number,
  lookMs: number,
  receivedBy = NO_CUTOFF,
): MeterSeriesReading[] {
  const from = start - lookMs;
  const to = end + lookMs;
  const before = prepared(
    ledger,
    'SELECT * FROM readings WHERE meter_id = ? AND ts < ? AND received_at <= ? ORDER BY ts DESC LIMIT ?',
  ).all(meterId, from, receivedBy, SERIES_EXTRA_READINGS) as ReadingRow[];
  const inside = prepared(
    ledger,
    'SELECT * FROM readings WHERE meter_id = ? AND ts >= ? AND ts <= ? AND received_at <= ? ORDER BY ts',
  ).all(meterId, from, to, receivedBy) as ReadingRow[];
  const after = prepared(
    ledger,
    'SELECT * FROM readings WHERE meter_id = ? AND ts > ? AND received_at <= ? ORDER BY ts LIMIT ?',
  ).all(meterId, to, receivedBy, SERIES_EXTRA_READINGS) as ReadingRow[];
  return [...before.reverse(), ...inside, ...after].map((r) => ({
    ts: r.ts,
    importWh: r.import_wh,
    exportWh: r.export_wh,
    powerW: r.power_w,
    quality: r.quality,
  }));
}

/** The lowest and highest ts a series bound can take when a meter has fewer than SERIES_EXTRA_READINGS beyond it. */
const TS_FLOOR = -Number.MAX_SAFE_INTEGER;
const TS_CEIL = Number.MAX_SAFE_INTEGER;

/**
 * meterSeriesReadings of every meter at once, for the metering step: one statement, prepared once, for the series of
 * all meters (each meter's window and the SERIES_EXTRA_READINGS beyond it on each side, received by `receivedBy`),
 * instead of three per meter. The readings beyond the window are selected by bounds: the SERIES_EXTRA_READINGS-th
 * reading before the window (or none, when there are fewer) is the lowest ts of the series, likewise after it, so the
 * series are exactly meterSeriesReadings'. Meters without a reading are absent from the map.
 */
export function allMeterSeriesReadings(
  ledger: Ledger,
  start: number,
  end: number,
  lookMs: number,
  receivedBy = NO_CUTOFF,
): Map<string, MeterSeriesReading[]> {
  const out = new Map<string, MeterSeriesReading[]>();
  eachMeterSeries(ledger, start, end, lookMs, receivedBy, (id, series) => out.set(id, series));
  return out;
}

/** readings.quality's values (its CHECK), by the code the series statement returns for each. */
const QUALITY_BY_CODE = ['good', 'suspect', 'missing'] as const;

/**
 * allMeterSeriesReadings streamed: `take` gets each meter's series as soon as its rows are read, meter by meter in id
 * order, so a caller that validates and drops each series keeps one meter's readings alive, not every meter's. At
 * 10,000 meters (~360,000 readings) holding them all until the last was read made most of the metering step's
 * garbage-collection time: in one process, the read plus validation took 1,140–1,486 ms of CPU (GC 405–1,009 ms)
 * held, 868–1,106 ms (GC 53–124 ms) streamed (scratch A/B, load ~6).
 *
 * Each meter's series comes as one row, its readings' numbers joined into one JSON array by SQLite: handing a row
 * to JavaScript costs more than SQLite's whole search for it, and at ~36 rows per meter it was three quarters of the
 * read (360,000 readings: 440–860 ms joined against 915–1,518 ms a row each, scratch A/B at load ~4.5). Exact:
 * integers print exactly, and quote() prints a REAL with the digits that read back to the same double (SQLite's
 * round-trip rule; JSON.parse rounds correctly), which the test against the per-meter queries checks on doubles
 * that need all 17 digits. The quality is a code (readings.quality's CHECK allows only the three). `take` must not
 * use the ledger: the statement is still stepping.
 */
export function eachMeterSeries(
  ledger: Ledger,
  start: number,
  end: number,
  lookMs: number,
  receivedBy: number,
  take: (meterId: string, series: MeterSeriesReading[]) => void,
): void {
  const ids = new Map(prepared(ledger, 'SELECT rowid, id FROM meters').raw(true).all() as [number, string][]);
  // CROSS JOIN keeps meters the outer loop: each meter's readings are a range of the (meter_id, ts) primary key.
  const rows = prepared(
    ledger,
    `SELECT m.rowid,
            group_concat(r.ts || ',' || ifnull(r.import_wh, 'null') || ',' || ifnull(r.export_wh, 'null') || ','
                           || iif(r.power_w IS NULL, 'null', quote(r.power_w)) || ','
                           || CASE r.quality WHEN 'good' THEN 0 WHEN 'suspect' THEN 1 WHEN 'missing' THEN 2 END,
                         ',' ORDER BY r.ts)
     FROM meters m CROSS JOIN readings r ON r.meter_id = m.id
     WHERE r.received_at <= @by
       AND r.ts >= COALESCE((SELECT b.ts FROM readings b WHERE b.meter_id = m.id AND b.ts < @from AND b.received_at <= @by
                             ORDER BY b.ts DESC LIMIT 1 OFFSET ${SERIES_EXTRA_READINGS - 1}), ${TS_FLOOR})
       AND r.ts <= COALESCE((SELECT a.ts FROM readings a WHERE a.meter_id = m.id AND a.ts > @to AND a.received_at <= @by
                             ORDER BY a.ts LIMIT 1 OFFSET ${SERIES_EXTRA_READINGS - 1}), ${TS_CEIL})
     GROUP BY m.id
     ORDER BY m.id`,
  )
    .raw(true)
    .iterate({ by: receivedBy, from: start - lookMs, to: end + lookMs }) as Iterable<[number, string]>;
  for (const [meter, joined] of rows) {
    const v = JSON.parse(`[${joined}]`) as (number | null)[];
    const list = new Array<MeterSeriesReading>(v.length / 5);
    for (let i = 0, j = 0; i < v.length; i += 5, j++) {
      list[j] = {
        ts: v[i]!,
        importWh: v[i + 1]!,
        exportWh: v[i + 2]!,
        powerW: v[i + 3]!,
        quality: QUALITY_BY_CODE[v[i + 4]!]!,
      };
    }
    take(ids.get(meter)!, list);
  }
}

/**
 * bracketingReadingTs read off a meter's series (meterSeriesReadings, oldest first, same `receivedBy`): the series holds
 * the last reading at or before the start (the window reaches lookMs before it, else the readings before the window
 * start with the newest one) and the first at or after the end, so no query is needed.
 */
export function bracketingFromSeries(
  series: readonly MeterSeriesReading[],
  start: number,
  end: number,
): { first: number | null; last: number | null } {
  let before: number | null = null;
  let firstInside: number | null = null;
  let after: number | null = null;
  for (const r of series) {
    if (r.ts <= start) before = r.ts;
    else if (r.ts < end) firstInside ??= r.ts;
    else {
      after = r.ts;
      break;
    }
  }
  return { first: before ?? firstInside, last: after };
}

/**
 * meterSeriesReadings for every grid meter with interval energy at `start`, at once (the audit's evidence, thousands
 * of intervals in a row: one query for the window of all meters, two per meter for the readings beyond it, each
 * statement prepared once). `meters` are those meters with the receipt cut-off their energy recorded (null: none,
 * every stored reading counts); the result is their series, meter after meter in the order given, each oldest first.
 */
export function listGridSeriesReadings(
  ledger: Ledger,
  start: number,
  end: number,
  lookMs: number,
  meters: readonly { meterId: string; receivedBy: number | null }[],
): ReadingRow[] {
  const window = new Map<string, ReadingRow[]>();
  const inside = prepared(
    ledger,
    `SELECT r.* FROM interval_energy e JOIN meters m ON m.id = e.meter_id JOIN readings r ON r.meter_id = e.meter_id AND r.ts >= ? AND r.ts <= ?
       AND r.received_at <= COALESCE(e.received_by, ${NO_CUTOFF})
     WHERE e.interval_start = ? AND m.role = 'grid' ORDER BY r.meter_id, r.ts`,
  ).all(start - lookMs, end + lookMs, start) as ReadingRow[];
  for (const r of inside) {
    const list = window.get(r.meter_id);
    if (list) list.push(r);
    else window.set(r.meter_id, [r]);
  }
  const before = prepared(
    ledger,
    'SELECT * FROM readings WHERE meter_id = ? AND ts < ? AND received_at <= ? ORDER BY ts DESC LIMIT ?',
  );
  const after = prepared(
    ledger,
    'SELECT * FROM readings WHERE meter_id = ? AND ts > ? AND received_at <= ? ORDER BY ts ASC LIMIT ?',
  );
  const out: ReadingRow[] = [];
  for (const m of meters) {
    const by = m.receivedBy ?? NO_CUTOFF;
    out.push(...(before.all(m.meterId, start - lookMs, by, SERIES_EXTRA_READINGS) as ReadingRow[]).reverse());
    out.push(...(window.get(m.meterId) ?? []));
    out.push(...(after.all(m.meterId, end + lookMs, by, SERIES_EXTRA_READINGS) as ReadingRow[]));
  }
  return out;
}

export interface MeterDataReasonValue {
  code: string;
  message: string;
}

export interface StoredMeterIntervalEnergy {
  intervalStart: number;
  meterId: string;
  importWh: number;
  exportWh: number;
  status: MeterDataStatusValue;
  reasons: MeterDataReasonValue[];
  method: string | null;
  firstReadingTs: number | null;
  lastReadingTs: number | null;
  /**
   * The metering step's receipt cut-off: the energy is validated on the readings received by then (null: on every
   * stored reading).
   */
  receivedBy?: number | null;
}

/**
 * The bracketing readings of [start, end) (last at or before start, first at or after end) among those received by
 * `receivedBy`, for the readings Merkle root.
 */
export function bracketingReadingTs(
  ledger: Ledger,
  meterId: string,
  start: number,
  end: number,
  receivedBy = NO_CUTOFF,
): { first: number | null; last: number | null } {
  const before = prepared(
    ledger,
    'SELECT ts FROM readings WHERE meter_id = ? AND ts <= ? AND received_at <= ? ORDER BY ts DESC LIMIT 1',
  ).get(meterId, start, receivedBy) as { ts: number } | undefined;
  const after = prepared(
    ledger,
    'SELECT ts FROM readings WHERE meter_id = ? AND ts >= ? AND received_at <= ? ORDER BY ts ASC LIMIT 1',
  ).get(meterId, end, receivedBy) as { ts: number } | undefined;
  const firstInside = before
    ? undefined
    : (prepared(
        ledger,
        'SELECT ts FROM readings WHERE meter_id = ? AND ts > ? AND ts < ? AND received_at <= ? ORDER BY ts LIMIT 1',
      ).get(meterId, start, end, receivedBy) as { ts: number } | undefined);
  return { first: before?.ts ?? firstInside?.ts ?? null, last: after?.ts ?? null };
}

/** The legacy quality column, for readers that still show it. */
const legacyQuality = (e: StoredMeterIntervalEnergy): 'good' | 'suspect' | 'missing' =>
  e.status === 'actual' || e.status === 'partial'
    ? 'good'
    : e.firstReadingTs === null && e.lastReadingTs === null
      ? 'missing'
      : 'suspect';

/**
 * Upserts interval energies; a held grid meter's enters the operator's queue (or
 * updates its undecided entry), one no longer held leaves it if undecided.
 * A decided hold is never touched again. (A PV meter's held data is stored
 * and shown but settles nothing, so it waits for no decision.)
 */
export function saveMeterIntervalEnergies(
  ledger: Ledger,
  rows: readonly StoredMeterIntervalEnergy[],
  now: number,
): void {
  const upsert = prepared(
    ledger,
    `INSERT INTO interval_energy (interval_start, meter_id, import_wh, export_wh, quality, first_reading_ts, last_reading_ts, status, reasons, method, received_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(interval_start, meter_id) DO UPDATE SET import_wh = excluded.import_wh, export_wh = excluded.export_wh, quality = excluded.quality,
       first_reading_ts = excluded.first_reading_ts, last_reading_ts = excluded.last_reading_ts, status = excluded.status, reasons = excluded.reasons, method = excluded.method,
       received_by = excluded.received_by`,
  );
  const hold = prepared(
    ledger,
    `INSERT INTO meter_data_holds (interval_start, meter_id, participant_id, import_wh, export_wh, reasons, held_at)
     SELECT @intervalStart, @meterId, participant_id, @importWh, @exportWh, @reasons, @now FROM meters WHERE id = @meterId AND role = 'grid'
     ON CONFLICT(interval_start, meter_id) DO UPDATE SET import_wh = excluded.import_wh, export_wh = excluded.export_wh, reasons = excluded.reasons
       WHERE meter_data_holds.decision IS NULL`,
  );
  const unhold = prepared(
    ledger,
    'DELETE FROM meter_data_holds WHERE interval_start = ? AND meter_id = ? AND decision IS NULL',
  );
  // The undecided holds of the rows' intervals, read once: only those can be ended, so a metering step of thousands
  // of meters with none held deletes nothing, rather than trying once per meter.
  const pendingOf = prepared(
    ledger,
    'SELECT meter_id FROM meter_data_holds WHERE decision IS NULL AND interval_start = ?',
  ).pluck();
  const pending = new Map<number, Set<string>>();
  const isPending = (start: number, meterId: string): boolean => {
    let s = pending.get(start);
    if (!s) pending.set(start, (s = new Set(pendingOf.all(start) as string[])));
    return s.has(meterId);
  };
  ledger.tx(() => {
    for (const e of rows) {
      const reasons = JSON.stringify(e.reasons);
      upsert.run(
        e.intervalStart,
        e.meterId,
        e.importWh,
        e.exportWh,
        legacyQuality(e),
        e.firstReadingTs,
        e.lastReadingTs,
        e.status,
        reasons,
        e.method,
        e.receivedBy ?? null,
      );
      if (e.status === 'held') {
        isPending(e.intervalStart, e.meterId);
        pending.get(e.intervalStart)!.add(e.meterId);
        hold.run({
          intervalStart: e.intervalStart,
          meterId: e.meterId,
          importWh: e.importWh,
          exportWh: e.exportWh,
          reasons,
          now,
        });
      } else if (isPending(e.intervalStart, e.meterId)) unhold.run(e.intervalStart, e.meterId);
    }
  });
}

export interface MeterHold {
  interval: string;
  intervalStart: number;
  meterId: string;
  participantId: string;
  importWh: number;
  exportWh: number;
  reasons: MeterDataReasonValue[];
  heldAt: number;
  decision: 'accept' | 'replace' | 'reject' | 'estimate' | null;
  decidedImportWh: number | null;
  decidedExportWh: number | null;
  decidedStatus: 'actual' | 'estimated' | 'rejected' | null;
  method: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  decidedAt: number | null;
  appliedIn: number | null;
  creditedIn: number | null;
}

interface HoldRow extends Omit<MeterHold, 'interval' | 'reasons'> {
  reasons: string;
}

const HOLD_COLUMNS = `interval_start AS intervalStart, meter_id AS meterId, participant_id AS participantId, import_wh AS importWh, export_wh AS exportWh,
  reasons, held_at AS heldAt, decision, decided_import_wh AS decidedImportWh, decided_export_wh AS decidedExportWh, decided_status AS decidedStatus,
  method, decided_by AS decidedBy, decision_reason AS decisionReason, decided_at AS decidedAt, applied_in AS appliedIn, credited_in AS creditedIn`;

const holdFromRow = (r: HoldRow): MeterHold => ({
  ...r,
  interval: toIso(r.intervalStart),
  reasons: JSON.parse(r.reasons) as MeterDataReasonValue[],
});

/** Held meter-intervals, oldest first: pending ones (no decision yet), or all. */
export function listMeterHolds(ledger: Ledger, opts: { pending?: boolean; participantId?: string } = {}): MeterHold[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (opts.pending) where.push('decision IS NULL');
  if (opts.participantId !== undefined) {
    where.push('participant_id = ?');
    args.push(opts.participantId);
  }
  const sql = `SELECT ${HOLD_COLUMNS} FROM meter_data_holds ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY interval_start, meter_id`;
  return (ledger.db.prepare(sql).all(...args) as HoldRow[]).map(holdFromRow);
}

export function getMeterHold(ledger: Ledger, intervalStart: number, meterId: string): MeterHold | undefined {
  const r = ledger.db
    .prepare(`SELECT ${HOLD_COLUMNS} FROM meter_data_holds WHERE interval_start = ? AND meter_id = ?`)
    .get(intervalStart, meterId) as HoldRow | undefined;
  return r ? holdFromRow(r) : undefined;
}

export interface MeterHoldDecision {
  intervalStart: number;
  meterId: string;
  decision: 'accept' | 'replace' | 'reject' | 'estimate';
  importWh: number;
  exportWh: number;
  status: 'actual' | 'estimated' | 'rejected';
  method: string | null;
  by: string;
  reason: string;
  at: number;
}

/** Records a decision on a pending hold; a hold is decided once (LEDGER_CONFLICT otherwise). */
export function recordMeterHoldDecision(ledger: Ledger, d: MeterHoldDecision): MeterHold {
  return ledger.tx(() => {
    const h = getMeterHold(ledger, d.intervalStart, d.meterId);
    if (!h)
      throw new MicrogridError('NOT_FOUND', 'no held meter-interval', {
        field: 'meterId',
        value: `${d.meterId} @ ${toIso(d.intervalStart)}`,
        expected: 'a held meter-interval (GET /api/meter-data/holds)',
      });
    if (h.decision !== null) {
      throw new MicrogridError(
        'LEDGER_CONFLICT',
        `held meter-interval ${d.meterId} @ ${toIso(d.intervalStart)} was decided already (${h.decision} by ${h.decidedBy})`,
        {
          field: 'decision',
          value: d.decision,
          expected: 'a pending hold: each is decided once',
        },
      );
    }
    ledger.db
      .prepare(
        `UPDATE meter_data_holds SET decision = ?, decided_import_wh = ?, decided_export_wh = ?, decided_status = ?, method = ?, decided_by = ?, decision_reason = ?, decided_at = ?
         WHERE interval_start = ? AND meter_id = ?`,
      )
      .run(d.decision, d.importWh, d.exportWh, d.status, d.method, d.by, d.reason, d.at, d.intervalStart, d.meterId);
    return getMeterHold(ledger, d.intervalStart, d.meterId)!;
  });
}

/** Decided holds whose adjustment is on no statement yet, oldest first. */
export function listUnappliedHoldDecisions(ledger: Ledger, beforeInterval: number): MeterHold[] {
  return (
    prepared(
      ledger,
      `SELECT ${HOLD_COLUMNS} FROM meter_data_holds WHERE decision IS NOT NULL AND applied_in IS NULL AND interval_start < ? ORDER BY interval_start, meter_id`,
    ).all(beforeInterval) as HoldRow[]
  ).map(holdFromRow);
}

/** Holds whose adjustment the statements of `interval` carry. */
export function listHoldsAppliedIn(ledger: Ledger, interval: number): MeterHold[] {
  return (
    prepared(
      ledger,
      `SELECT ${HOLD_COLUMNS} FROM meter_data_holds WHERE applied_in = ? ORDER BY interval_start, meter_id`,
    ).all(interval) as HoldRow[]
  ).map(holdFromRow);
}

export function markHoldsApplied(
  ledger: Ledger,
  holds: readonly Pick<MeterHold, 'intervalStart' | 'meterId'>[],
  interval: number,
): void {
  const stmt = ledger.db.prepare(
    'UPDATE meter_data_holds SET applied_in = ? WHERE interval_start = ? AND meter_id = ? AND applied_in IS NULL AND decision IS NOT NULL',
  );
  ledger.tx(() => {
    for (const h of holds) stmt.run(interval, h.intervalStart, h.meterId);
  });
}

/** Stores the rated power a meter is validated with (config, else device, else the role's default). */
export type RatedPowerSource = 'config' | 'device' | 'default';

/** The rated power a meter's data is validated with, and where it came from (app/rated-power.ts). */
export function setMeterRatedPower(
  ledger: Ledger,
  meterId: string,
  ratedPowerW: number,
  source: RatedPowerSource,
): void {
  ledger.db
    .prepare('UPDATE meters SET rated_power_w = ?, rated_power_source = ? WHERE id = ?')
    .run(ratedPowerW, source, meterId);
}

export function meterRatedPowers(
  ledger: Ledger,
): { meterId: string; ratedPowerW: number | null; source: RatedPowerSource | null }[] {
  return ledger.db
    .prepare('SELECT id AS meterId, rated_power_w AS ratedPowerW, rated_power_source AS source FROM meters ORDER BY id')
    .all() as { meterId: string; ratedPowerW: number | null; source: RatedPowerSource | null }[];
}

export interface MeterForValidation {
  id: string;
  participantId: string;
  role: 'grid' | 'pv';
  ratedPowerW: number | null;
}

export function metersForValidation(ledger: Ledger): MeterForValidation[] {
  return prepared(
    ledger,
    'SELECT id, participant_id AS participantId, role, rated_power_w AS ratedPowerW FROM meters ORDER BY id',
  ).all() as MeterForValidation[];
}

export interface AdjustmentGroup {
  intervalStart: number;
  participantId: string;
  holds: MeterHold[];
  /** The participant's grid meters in that interval that were not held. */
  otherImportWh: number;
  otherExportWh: number;
  /** What its statement of that interval delivered in trades. */
  boughtWh: number;
  soldWh: number;
}

/**
 * The decisions a statement of interval `at` carries: those applied in it
 * already (a re-run finds the same), then every decided, unapplied hold of an
 * earlier interval whose participant has no hold left pending in that
 * interval and whose statement of that interval exists. Grouped per
 * (interval, participant): the participant's grid position is netted over
 * all its grid meters, as its statement would have been.
 */
export function adjustmentGroups(ledger: Ledger, at: number): AdjustmentGroup[] {
  // Prepared once per ledger (prepared.ts): the audit asks this for every interval it loads.
  const candidates = [...listHoldsAppliedIn(ledger, at), ...listUnappliedHoldDecisions(ledger, at)];
  const pending = prepared(
    ledger,
    'SELECT COUNT(*) AS n FROM meter_data_holds WHERE interval_start = ? AND participant_id = ? AND decision IS NULL',
  );
  const stmt = prepared(
    ledger,
    'SELECT bought_wh AS b, sold_wh AS s FROM statements WHERE interval_start = ? AND participant_id = ?',
  );
  const others = prepared(
    ledger,
    `SELECT COALESCE(SUM(e.import_wh), 0) AS i, COALESCE(SUM(e.export_wh), 0) AS x FROM interval_energy e JOIN meters m ON m.id = e.meter_id
     WHERE e.interval_start = ? AND m.participant_id = ? AND m.role = 'grid'
       AND NOT EXISTS (SELECT 1 FROM meter_data_holds h WHERE h.interval_start = e.interval_start AND h.meter_id = e.meter_id)`,
  );
  const groups = new Map<string, AdjustmentGroup>();
  for (const h of candidates) {
    const key = `${h.intervalStart}\u0000${h.participantId}`;
    let g = groups.get(key);
    if (!g) {
      if (h.appliedIn === null && (pending.get(h.intervalStart, h.participantId) as { n: number }).n > 0) continue;
      const st = stmt.get(h.intervalStart, h.participantId) as { b: number; s: number } | undefined;
      if (!st) continue;
      const o = others.get(h.intervalStart, h.participantId) as { i: number; x: number };
      g = {
        intervalStart: h.intervalStart,
        participantId: h.participantId,
        holds: [],
        otherImportWh: o.i,
        otherExportWh: o.x,
        boughtWh: st.b,
        soldWh: st.s,
      };
      groups.set(key, g);
    }
    g.holds.push(h);
  }
  return [...groups.values()].sort(
    (a, b) => a.intervalStart - b.intervalStart || (a.participantId < b.participantId ? -1 : 1),
  );
}

/** Pending holds held before `cutoff` (market time): the window for a decision has passed. */
export function listExpiredHolds(ledger: Ledger, cutoff: number): MeterHold[] {
  return (
    ledger.db
      .prepare(
        `SELECT ${HOLD_COLUMNS} FROM meter_data_holds WHERE decision IS NULL AND held_at < ? ORDER BY interval_start, meter_id`,
      )
      .all(cutoff) as HoldRow[]
  ).map(holdFromRow);
}

/**
 * Stores the credits of accepted held export as a commitment of its own:
 * a settlement_credits row keyed by the held interval's start + n seconds
 * (n = 1, 2, … per adjustment of that interval; interval starts are whole
 * minutes, so the key never names an interval), queued for the submitter like
 * any interval. Token id on chain = that key in unix seconds. Marks the holds
 * credited. Returns the key.
 */
export function saveAdjustmentCredits(
  ledger: Ledger,
  heldStart: number,
  holds: readonly Pick<MeterHold, 'intervalStart' | 'meterId'>[],
  record: {
    exportWh: number;
    tradesRoot: `0x${string}`;
    readingsRoot: `0x${string}`;
    ruleSet: `0x${string}`;
    credits: { account: string; wh: number; participants: string[] }[];
  },
  now: number,
): number {
  return ledger.tx(() => {
    const last = ledger.db
      .prepare(
        'SELECT MAX(interval_start) AS k FROM settlement_credits WHERE interval_start > ? AND interval_start < ?',
      )
      .get(heldStart, heldStart + 60_000) as { k: number | null };
    const key = (last.k ?? heldStart) + 1000;
    ledger.db
      .prepare(
        `INSERT INTO settlement_credits (interval_start, export_wh, matched_wh, trades_root, readings_root, rule_set, credits, status, created_at, updated_at)
         VALUES (?, ?, 0, ?, ?, ?, ?, 'queued', ?, ?)`,
      )
      .run(
        key,
        record.exportWh,
        record.tradesRoot,
        record.readingsRoot,
        record.ruleSet,
        canonicalJson(record.credits),
        now,
        now,
      );
    const mark = ledger.db.prepare(
      'UPDATE meter_data_holds SET credited_in = ? WHERE interval_start = ? AND meter_id = ?',
    );
    for (const h of holds) mark.run(key, h.intervalStart, h.meterId);
    return key;
  });
}

/**
 * The readings at the boundaries (first_reading_ts, last_reading_ts) of meters' interval energy, per meter oldest
 * first.
 */
export function boundaryReadings(
  ledger: Ledger,
  intervalStart: number,
  meterIds: readonly string[],
): { meterId: string; ts: number; importWh: number | null; exportWh: number | null; signature: string | null }[] {
  const stmt = ledger.db.prepare(
    `SELECT r.meter_id AS meterId, r.ts, r.import_wh AS importWh, r.export_wh AS exportWh, r.signature FROM interval_energy e
     JOIN readings r ON r.meter_id = e.meter_id AND (r.ts = e.first_reading_ts OR r.ts = e.last_reading_ts)
     WHERE e.interval_start = ? AND e.meter_id = ? ORDER BY r.ts`,
  );
  return meterIds.flatMap(
    (id) =>
      stmt.all(intervalStart, id) as {
        meterId: string;
        ts: number;
        importWh: number | null;
        exportWh: number | null;
        signature: string | null;
      }[],
  );
}

/**
 * How many meter-intervals are held: waiting for a decision (`pending`), or of one interval. For /metrics and the
 * Influx interval results.
 */
export function countMeterHolds(ledger: Ledger, opts: { pending?: boolean; intervalStart?: number } = {}): number {
  const where: string[] = [];
  const args: number[] = [];
  if (opts.pending) where.push('decision IS NULL');
  if (opts.intervalStart !== undefined) {
    where.push('interval_start = ?');
    args.push(opts.intervalStart);
  }
  const row = ledger.db
    .prepare(`SELECT COUNT(*) AS n FROM meter_data_holds ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`)
    .get(...args) as { n: number };
  return row.n;
}
