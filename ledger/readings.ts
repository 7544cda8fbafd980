import type { Ledger } from './ledger.js';
import type { ReadingEvent, ReadingQuality } from '../core/events.js';
import { MicrogridError } from '../core/errors.js';
import { receiptStamp } from './readings-cutoff.js';
import { prepared } from './prepared.js';

/**
 * Meter readings and interval energy. Readings are stored as the gateway
 * signed them (values, gateway address, EIP-712 signature), so an auditor can
 * verify each one again. Interval energy per meter is the counter delta
 * across the interval's boundaries.
 */

export interface StoredReading {
  meterId: string;
  ts: number;
  powerW: number | null;
  importWh: number | null;
  exportWh: number | null;
  voltageV: number | null;
  frequencyHz: number | null;
  quality: ReadingQuality;
  gateway: string | null;
  signature: string | null;
  receivedAt: number;
}

/**
 * Stores readings; a reading already stored for (meter, ts) is kept, not replaced. Returns how many were new.
 * `receivedAt` is stamped after the newest metering cut-off if it is not already (readings-cutoff.ts): a reading
 * stored after an interval was metered never counts as one that interval's validation had.
 */
export function insertReadings<R extends ReadingEvent>(
  ledger: Ledger,
  readings: readonly R[],
  receivedAt: number,
): { inserted: number; duplicates: number; fresh: R[] } {
  const stmt = ledger.db.prepare(
    `INSERT INTO readings (meter_id, ts, power_w, import_wh, export_wh, voltage_v, frequency_hz, quality, gateway, signature, received_at)
     VALUES (@meterId, @ts, @powerW, @importWh, @exportWh, @voltageV, @frequencyHz, @quality, @gateway, @signature, @receivedAt)
     ON CONFLICT(meter_id, ts) DO NOTHING`,
  );
  const fresh: R[] = [];
  ledger.tx(() => {
    const stamp = receiptStamp(ledger, receivedAt);
    for (const r of readings) {
      const ts = Date.parse(r.ts);
      if (!Number.isFinite(ts))
        throw new MicrogridError('INVALID_TIME', 'reading timestamp is not ISO 8601', {
          field: 'ts',
          value: r.ts,
          expected: 'an ISO 8601 UTC time',
        });
      const changes = stmt.run({
        meterId: r.meterId,
        ts,
        powerW: r.powerW,
        importWh: r.importWh,
        exportWh: r.exportWh,
        voltageV: r.voltageV,
        frequencyHz: r.frequencyHz,
        quality: r.quality,
        gateway: r.gateway ?? null,
        signature: r.signature ?? null,
        receivedAt: stamp,
      }).changes;
      if (changes > 0) fresh.push(r);
    }
  });
  return { inserted: fresh.length, duplicates: readings.length - fresh.length, fresh };
}

/** A readings table row, as SELECT * returns it. */
export interface ReadingRow {
  meter_id: string;
  ts: number;
  power_w: number | null;
  import_wh: number | null;
  export_wh: number | null;
  voltage_v: number | null;
  frequency_hz: number | null;
  quality: ReadingQuality;
  gateway: string | null;
  signature: string | null;
  received_at: number;
}

/** A row as a reading, without when it was received. */
export const readingFromRow = (r: Omit<ReadingRow, 'received_at'>): Omit<StoredReading, 'receivedAt'> => ({
  meterId: r.meter_id,
  ts: r.ts,
  powerW: r.power_w,
  importWh: r.import_wh,
  exportWh: r.export_wh,
  voltageV: r.voltage_v,
  frequencyHz: r.frequency_hz,
  quality: r.quality,
  gateway: r.gateway,
  signature: r.signature,
});

const toStored = (r: ReadingRow): StoredReading => ({ ...readingFromRow(r), receivedAt: r.received_at });

/**
 * Every grid meter's readings with from ≤ ts ≤ to, by meter and ts, whatever their receipt (the audit's evidence loader
 * reads a block of consecutive intervals' series at once and applies each energy's cut-off itself).
 * CROSS JOIN: meters outside, so each meter is one primary-key range (without it the planner scanned all readings).
 */
export function listGridReadingsSpan(ledger: Ledger, from: number, to: number): ReadingRow[] {
  return prepared(
    ledger,
    `SELECT r.* FROM meters m CROSS JOIN readings r ON r.meter_id = m.id AND r.ts >= ? AND r.ts <= ?
     WHERE m.role = 'grid' ORDER BY r.meter_id, r.ts`,
  ).all(from, to) as ReadingRow[];
}

/**
 * The earliest receipt among a meter's readings older than `ts` (side 'before') or newer (side 'after'); null when it has
 * none there. The evidence loader asks it once per block and meter, to know whether a series' extra readings can lie
 * outside the block it read.
 */
export function earliestReceiptBeyond(
  ledger: Ledger,
  meterId: string,
  ts: number,
  side: 'before' | 'after',
): number | null {
  const row = prepared(
    ledger,
    `SELECT MIN(received_at) AS r FROM readings WHERE meter_id = ? AND ts ${side === 'before' ? '<' : '>'} ?`,
  ).get(meterId, ts) as { r: number | null };
  return row.r;
}

/** Readings of a meter with from ≤ ts < to (`to` excluded), oldest first. */
export function listReadingsBefore(ledger: Ledger, meterId: string, from: number, to: number): StoredReading[] {
  return (
    ledger.db
      .prepare('SELECT * FROM readings WHERE meter_id = ? AND ts >= ? AND ts < ? ORDER BY ts')
      .all(meterId, from, to) as ReadingRow[]
  ).map(toStored);
}

/**
 * A reading as the auditor's drill-down lists it: signed values, gateway and signature, without voltage, frequency and
 * receipt.
 */
export interface ReadingSummary {
  meterId: string;
  ts: number;
  powerW: number | null;
  importWh: number | null;
  exportWh: number | null;
  quality: string;
  gateway: string | null;
  signature: string | null;
}

/**
 * Readings with from ≤ ts ≤ to (`to` included: the reading at an interval's end is its closing one), by ts and meter,
 * bounded by `limit`.
 */
export function listReadingsThrough(
  ledger: Ledger,
  r: { from: number; to: number; meterIds?: string[]; limit?: number },
): ReadingSummary[] {
  const args: (string | number)[] = [r.from, r.to];
  let filter = '';
  if (r.meterIds) {
    if (r.meterIds.length === 0) return [];
    filter = ` AND meter_id IN (${r.meterIds.map(() => '?').join(',')})`;
    args.push(...r.meterIds);
  }
  return ledger.db
    .prepare(
      `SELECT meter_id AS meterId, ts, power_w AS powerW, import_wh AS importWh, export_wh AS exportWh, quality, gateway, signature
       FROM readings WHERE ts >= ? AND ts <= ?${filter} ORDER BY ts, meter_id LIMIT ?`,
    )
    .all(...args, r.limit ?? 5000) as ReadingSummary[];
}

/** The counters and signature of a meter's reading at exactly `ts` (a leaf of the readings Merkle tree), if stored. */
export function getSignedCounters(
  ledger: Ledger,
  meterId: string,
  ts: number,
):
  | { meterId: string; ts: number; importWh: number | null; exportWh: number | null; signature: string | null }
  | undefined {
  return prepared(
    ledger,
    'SELECT meter_id AS meterId, ts, import_wh AS importWh, export_wh AS exportWh, signature FROM readings WHERE meter_id = ? AND ts = ?',
  ).get(meterId, ts) as
    | { meterId: string; ts: number; importWh: number | null; exportWh: number | null; signature: string | null }
    | undefined;
}

/** How many meters have no reading at or after `ts`: zero means every meter's counters reach past it. */
export function countMetersWithoutReadingFrom(ledger: Ledger, ts: number): number {
  return (
    ledger.db
      .prepare(
        'SELECT COUNT(*) AS n FROM meters m WHERE NOT EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = m.id AND r.ts >= ?)',
      )
      .get(ts) as { n: number }
  ).n;
}

/**
 * Stores readings as given, replacing any stored for the same (meter, ts), with the receipt time given per reading.
 * For synthetic ledgers (settlement's benchmark scenario), whose consecutive intervals rewrite a shared boundary
 * reading; the bridge's intake is insertReadings, which keeps the first reading and stamps the receipt itself.
 */
export function replaceReadings(
  ledger: Ledger,
  readings: readonly {
    meterId: string;
    ts: number;
    importWh: number | null;
    exportWh: number | null;
    gateway: string | null;
    signature: string | null;
    receivedAt: number;
  }[],
): void {
  const stmt = ledger.db.prepare(
    `INSERT OR REPLACE INTO readings (meter_id, ts, power_w, import_wh, export_wh, quality, gateway, signature, received_at) VALUES (?, ?, NULL, ?, ?, 'good', ?, ?, ?)`,
  );
  ledger.tx(() => {
    for (const r of readings) stmt.run(r.meterId, r.ts, r.importWh, r.exportWh, r.gateway, r.signature, r.receivedAt);
  });
}

/** The gateway address registered for each meter (lower-case), for signature checks. */
export function meterGateways(ledger: Ledger, meterIds: readonly string[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const stmt = ledger.db.prepare('SELECT gateway FROM meters WHERE id = ?');
  for (const id of new Set(meterIds)) {
    const row = stmt.get(id) as { gateway: string | null } | undefined;
    if (row) out.set(id, row.gateway === null ? null : row.gateway.toLowerCase());
  }
  return out;
}

/** Registers the gateway whose key signs a meter's readings. */
export function setMeterGateway(ledger: Ledger, meterId: string, gateway: string): void {
  if (!/^0x[0-9a-fA-F]{40}$/.test(gateway))
    throw new MicrogridError('INVALID_INPUT', 'gateway is not an address', {
      field: 'gateway',
      value: gateway,
      expected: 'a 0x-prefixed 20-byte EVM address',
    });
  const r = ledger.db.prepare('UPDATE meters SET gateway = ? WHERE id = ?').run(gateway, meterId);
  if (r.changes === 0)
    throw new MicrogridError('NOT_FOUND', 'no such meter', {
      field: 'meterId',
      value: meterId,
      expected: 'a meter configured under participants[].meters',
    });
}

export interface IntervalEnergy {
  intervalStart: number;
  meterId: string;
  importWh: number;
  exportWh: number;
  quality: ReadingQuality;
  firstReadingTs: number | null;
  lastReadingTs: number | null;
  /** Why the interval is not `good`. */
  reasons: string[];
}

export interface IntervalEnergyOptions {
  /**
   * A gap between two readings longer than this, across the interval, makes it suspect (ms). Default: the interval
   * length.
   */
  maxGapMs?: number;
}

/**
 * Energy of one meter in [start, end): for each counter, the readings that
 * bracket the interval (the last one at or before `start`, every one inside,
 * the first one at or after `end`) form a piecewise-linear counter; its value
 * at each boundary is interpolated and floored to whole Wh, so consecutive
 * intervals add up exactly to the counter's total. A step backwards (a reset)
 * contributes nothing; it, a suspect reading, or a gap longer than `maxGapMs`
 * makes the interval `suspect`. No bracketing reading on one side makes it
 * `missing` (0 Wh, to be filled when late readings arrive).
 */
export function computeIntervalEnergy(
  ledger: Ledger,
  meterId: string,
  start: number,
  end: number,
  opts: IntervalEnergyOptions = {},
): IntervalEnergy {
  const before = ledger.db
    .prepare('SELECT * FROM readings WHERE meter_id = ? AND ts <= ? ORDER BY ts DESC LIMIT 1')
    .get(meterId, start) as ReadingRow | undefined;
  const after = ledger.db
    .prepare('SELECT * FROM readings WHERE meter_id = ? AND ts >= ? ORDER BY ts ASC LIMIT 1')
    .get(meterId, end) as ReadingRow | undefined;
  const inside = ledger.db
    .prepare('SELECT * FROM readings WHERE meter_id = ? AND ts > ? AND ts < ? ORDER BY ts')
    .all(meterId, start, end) as ReadingRow[];
  const rows = [...(before ? [before] : []), ...inside, ...(after && after.ts !== before?.ts ? [after] : [])];
  return intervalEnergyFromReadings(
    meterId,
    start,
    end,
    rows.map((r) => ({ ts: r.ts, importWh: r.import_wh, exportWh: r.export_wh, quality: r.quality })),
    opts,
  );
}

/**
 * computeIntervalEnergy on readings already selected the same way (the last
 * one at or before `start`, every one inside, the first one at or after `end`;
 * oldest first) — for the audit, which holds them.
 */
export function intervalEnergyFromReadings(
  meterId: string,
  start: number,
  end: number,
  rows: readonly Pick<StoredReading, 'ts' | 'importWh' | 'exportWh' | 'quality'>[],
  opts: IntervalEnergyOptions = {},
): IntervalEnergy {
  const maxGap = opts.maxGapMs ?? end - start;
  const before = rows[0] !== undefined && rows[0].ts <= start ? rows[0] : undefined;
  const after = rows.at(-1) !== undefined && rows.at(-1)!.ts >= end ? rows.at(-1) : undefined;
  const reasons = new Set<string>();
  const result: IntervalEnergy = {
    intervalStart: start,
    meterId,
    importWh: 0,
    exportWh: 0,
    quality: 'good',
    firstReadingTs: rows[0]?.ts ?? null,
    lastReadingTs: rows.at(-1)?.ts ?? null,
    reasons: [],
  };
  if (!before || !after) {
    result.quality = 'missing';
    result.reasons = [!before ? 'no reading at or before the start' : 'no reading at or after the end'];
    return result;
  }
  let anyCounter = false;
  for (const field of ['importWh', 'exportWh'] as const) {
    const pts = rows.filter((r) => r[field] !== null).map((r) => ({ ts: r.ts, v: r[field]!, q: r.quality }));
    if (pts.length === 0) continue; // the device has no such counter (an inverter's import)
    anyCounter = true;
    if (pts[0]!.ts > start || pts.at(-1)!.ts < end) {
      reasons.add(`${field}: not bracketed by readings`);
      continue;
    }
    // Adjusted counter: the first value plus every non-negative step.
    const adj: { ts: number; a: number }[] = [{ ts: pts[0]!.ts, a: pts[0]!.v }];
    for (let i = 1; i < pts.length; i++) {
      const p = pts[i - 1]!;
      const c = pts[i]!;
      const d = c.v - p.v;
      if (d < 0) reasons.add(`${field}: counter went backwards at ${new Date(c.ts).toISOString()}`);
      if (c.ts - p.ts > maxGap && c.ts > start && p.ts < end) reasons.add(`${field}: gap of ${c.ts - p.ts} ms`);
      adj.push({ ts: c.ts, a: adj[i - 1]!.a + Math.max(0, d) });
    }
    for (const p of pts)
      if (p.q !== 'good' && p.ts >= start && p.ts <= end)
        reasons.add(`${field}: suspect reading at ${new Date(p.ts).toISOString()}`);
    const at = (t: number): number => {
      for (let i = 1; i < adj.length; i++) {
        const p = adj[i - 1]!;
        const c = adj[i]!;
        if (t >= p.ts && t <= c.ts) return c.ts === p.ts ? c.a : p.a + ((c.a - p.a) * (t - p.ts)) / (c.ts - p.ts);
      }
      return adj[0]!.a;
    };
    result[field] = Math.floor(at(end) + 1e-9) - Math.floor(at(start) + 1e-9);
  }
  if (!anyCounter) {
    result.quality = 'missing';
    result.reasons = ['no counter values'];
    return result;
  }
  if (reasons.size > 0) {
    result.quality = [...reasons].every((r) => r.includes('not bracketed')) ? 'missing' : 'suspect';
    result.reasons = [...reasons];
  }
  return result;
}

/** Computes and upserts interval energy for every meter with readings (or the ones given). */
export function upsertIntervalEnergy(
  ledger: Ledger,
  start: number,
  end: number,
  meterIds?: readonly string[],
  opts: IntervalEnergyOptions = {},
): IntervalEnergy[] {
  const ids =
    meterIds ?? (ledger.db.prepare('SELECT id FROM meters ORDER BY id').all() as { id: string }[]).map((r) => r.id);
  const stmt = ledger.db.prepare(
    `INSERT INTO interval_energy (interval_start, meter_id, import_wh, export_wh, quality, first_reading_ts, last_reading_ts)
     VALUES (@intervalStart, @meterId, @importWh, @exportWh, @quality, @firstReadingTs, @lastReadingTs)
     ON CONFLICT(interval_start, meter_id) DO UPDATE SET import_wh = excluded.import_wh, export_wh = excluded.export_wh,
       quality = excluded.quality, first_reading_ts = excluded.first_reading_ts, last_reading_ts = excluded.last_reading_ts`,
  );
  return ledger.tx(() =>
    ids.map((id) => {
      const e = computeIntervalEnergy(ledger, id, start, end, opts);
      stmt.run({
        intervalStart: e.intervalStart,
        meterId: e.meterId,
        importWh: e.importWh,
        exportWh: e.exportWh,
        quality: e.quality,
        firstReadingTs: e.firstReadingTs,
        lastReadingTs: e.lastReadingTs,
      });
      return e;
    }),
  );
}
