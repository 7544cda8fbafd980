import type { Ledger } from './ledger.js';
import type { MeterDataReasonValue, MeterDataStatusValue } from './meter-data.js';
import { prepared } from './prepared.js';

/**
 * Reads of the stored interval energy (table interval_energy, with each
 * meter's participant and role from meters). The metering step writes it
 * (readings.ts upsertIntervalEnergy, meter-data.ts saveMeterIntervalEnergies).
 */

export interface EnergyBucketRow {
  bucketStart: number;
  meterId: string | null;
  gridImportWh: number;
  gridExportWh: number;
  pvWh: number;
  /** Meters whose interval energy was flagged (suspect or missing) in the bucket. */
  flagged: number;
}

/**
 * Interval energy summed into buckets of `bucketMs` (aligned to UTC epoch
 * multiples). Grid meters give import and export, pv meters give generation
 * (their export counter). `meterIds` limits the sum to those meters (a
 * household's own); `perMeter` keeps one row per meter and bucket.
 */
export function energyHistory(
  ledger: Ledger,
  r: { from: number; to: number; bucketMs: number; meterIds?: string[]; perMeter?: boolean },
): EnergyBucketRow[] {
  const args: (string | number)[] = [r.bucketMs, r.from, r.to];
  let filter = '';
  if (r.meterIds) {
    if (r.meterIds.length === 0) return [];
    filter = ` AND e.meter_id IN (${r.meterIds.map(() => '?').join(',')})`;
    args.push(...r.meterIds);
  }
  const byMeter = r.perMeter ? ', e.meter_id' : '';
  return ledger.db
    .prepare(
      `SELECT e.interval_start - (e.interval_start % ?) AS bucketStart, ${r.perMeter ? 'e.meter_id' : 'NULL'} AS meterId,
              COALESCE(SUM(CASE WHEN m.role = 'grid' THEN e.import_wh ELSE 0 END), 0) AS gridImportWh,
              COALESCE(SUM(CASE WHEN m.role = 'grid' THEN e.export_wh ELSE 0 END), 0) AS gridExportWh,
              COALESCE(SUM(CASE WHEN m.role = 'pv' THEN e.export_wh ELSE 0 END), 0) AS pvWh,
              SUM(CASE WHEN e.status IN ('actual', 'partial') THEN 0 ELSE 1 END) AS flagged
       FROM interval_energy e JOIN meters m ON m.id = e.meter_id
       WHERE e.interval_start >= ? AND e.interval_start < ?${filter}
       GROUP BY bucketStart${byMeter} ORDER BY bucketStart${byMeter}`,
    )
    .all(...args) as EnergyBucketRow[];
}

export interface IntervalEnergyRow {
  meterId: string;
  participantId: string;
  role: 'grid' | 'pv';
  importWh: number;
  exportWh: number;
  quality: string;
  /** actual | estimated | held | partial (settlement/meter-data). */
  status: string;
  reasons: { code: string; message: string }[];
  method: string | null;
  firstReadingTs: number | null;
  lastReadingTs: number | null;
}

/** Every meter's energy of one interval (of one participant's meters, when given), by meter. */
export function intervalEnergy(ledger: Ledger, start: number, participantId?: string): IntervalEnergyRow[] {
  const sql = `SELECT e.meter_id AS meterId, m.participant_id AS participantId, m.role, e.import_wh AS importWh, e.export_wh AS exportWh, e.quality,
                      e.status, e.reasons, e.method, e.first_reading_ts AS firstReadingTs, e.last_reading_ts AS lastReadingTs
               FROM interval_energy e JOIN meters m ON m.id = e.meter_id WHERE e.interval_start = ?${participantId === undefined ? '' : ' AND m.participant_id = ?'}
               ORDER BY e.meter_id`;
  const stmt = ledger.db.prepare(sql);
  const rows = (participantId === undefined ? stmt.all(start) : stmt.all(start, participantId)) as (Omit<
    IntervalEnergyRow,
    'reasons'
  > & { reasons: string })[];
  return rows.map((r) => ({ ...r, reasons: JSON.parse(r.reasons) as IntervalEnergyRow['reasons'] }));
}

/** A grid meter's validated energy of one interval with what settlement and the audit need of the meter. */
export interface GridMeterEnergyRow {
  meterId: string;
  participant: string;
  /** Registered gateway address (meters.gateway). */
  gateway: string | null;
  role: 'grid';
  /** meters.rated_power_w (null: the role's default). */
  ratedPowerW: number | null;
  importWh: number;
  exportWh: number;
  quality: string;
  status: MeterDataStatusValue;
  reasons: MeterDataReasonValue[];
  method: string | null;
  firstTs: number | null;
  lastTs: number | null;
  /** The metering step's receipt cut-off (null: validated on every stored reading). */
  receivedBy: number | null;
}

/** The grid meters' energy of one interval, by meter: what settlement settles and the audit re-validates. */
export function listGridMeterEnergy(ledger: Ledger, start: number): GridMeterEnergyRow[] {
  const rows = prepared(
    ledger,
    `SELECT e.meter_id AS meterId, e.import_wh AS importWh, e.export_wh AS exportWh, e.quality, e.status, e.reasons, e.method,
            e.first_reading_ts AS firstTs, e.last_reading_ts AS lastTs, e.received_by AS receivedBy, m.participant_id AS participant, m.gateway, m.role, m.rated_power_w AS ratedPowerW
     FROM interval_energy e JOIN meters m ON m.id = e.meter_id WHERE e.interval_start = ? AND m.role = 'grid' ORDER BY e.meter_id`,
  ).all(start) as (Omit<GridMeterEnergyRow, 'reasons'> & { reasons: string })[];
  return rows.map((r) => ({ ...r, reasons: JSON.parse(r.reasons) as MeterDataReasonValue[] }));
}

/**
 * Stores interval energy as given (quality good, status left to its default), replacing a stored row of the same
 * interval and meter. For synthetic ledgers (settlement's benchmark scenario); the metering step writes through
 * saveMeterIntervalEnergies, with status and reasons.
 */
export function replaceIntervalEnergy(
  ledger: Ledger,
  rows: readonly {
    intervalStart: number;
    meterId: string;
    importWh: number;
    exportWh: number;
    firstReadingTs: number | null;
    lastReadingTs: number | null;
  }[],
): void {
  const stmt = ledger.db.prepare(
    `INSERT OR REPLACE INTO interval_energy (interval_start, meter_id, import_wh, export_wh, quality, first_reading_ts, last_reading_ts) VALUES (?, ?, ?, ?, 'good', ?, ?)`,
  );
  ledger.tx(() => {
    for (const r of rows)
      stmt.run(r.intervalStart, r.meterId, r.importWh, r.exportWh, r.firstReadingTs, r.lastReadingTs);
  });
}
