import type { Ledger } from '../ledger/ledger.js';
import { readingFromRow, type ReadingRow, type StoredReading } from '../ledger/readings.js';
import type { ClearingKind, ClearingResult } from '../core/market.js';
import type { TradeRow } from '../ledger/queries.js';
import { toIso } from '../core/interval.js';
import { listStatements, type StatementRecord } from '../ledger/statements.js';
import { adjustmentGroups, NO_CUTOFF, SERIES_EXTRA_READINGS, type AdjustmentGroup, type MeterDataReasonValue, type MeterDataStatusValue } from '../ledger/meter-data.js';
import { DEFAULT_METER_DATA_RULES } from '../settlement/meter-data/index.js';

/**
 * Everything the ledger holds about one interval that the audit re-derives
 * and compares: the grid meters with their registered gateways, roles and
 * rated powers, every signed reading the meter-data validation read (each
 * grid meter's series: ledger/meter-data.ts meterSeriesReadings, the same
 * window, of the readings received by the metering step's cut-off), with when
 * each was received, the interval energy the ledger used with its status,
 * reasons, method and that cut-off, the decisions on held data its statements carry, the
 * stored orders (metered, and forward ones that went into clearing), the
 * stored ClearingResults as their canonical JSON bytes, the participants'
 * accounts and the stored statements. An evidence bundle (bundle.ts) is this
 * object, so a third party runs the same checks on it.
 */

/** A reading as its gateway signed it: the ledger's stored reading without when it was received (what a signature covers). */
export type EvidenceReading = Omit<StoredReading, 'receivedAt'>;

/** A reading as the evidence carries it: signed values and when the ledger received it (operator-written, not signed). */
export type ReceivedReading = EvidenceReading & { receivedAt: number };

export interface EvidenceMeter {
  id: string;
  participant: string;
  /** Registered gateway address (meters.gateway). */
  gateway: string | null;
  role: 'grid' | 'pv';
  /** meters.rated_power_w: what the meter's data is validated with (null: the role's default). */
  ratedPowerW: number | null;
}

export interface EvidenceEnergy {
  meterId: string;
  importWh: number;
  exportWh: number;
  quality: string;
  status: MeterDataStatusValue;
  reasons: MeterDataReasonValue[];
  method: string | null;
  firstTs: number | null;
  lastTs: number | null;
  /** The metering step's receipt cut-off (interval_energy.received_by): validated on the readings received by then; null: on all. */
  receivedBy: number | null;
}

/** The window and rule numbers the metering step validated with (audit/meter-data-window.ts). */
export interface EvidenceMeterDataRules {
  /** Readings from start − lookMs to end + lookMs (and SERIES_EXTRA_READINGS beyond) make a meter's series. */
  lookMs: number;
  maxGapMs: number;
}

export interface EvidenceOrder {
  id: string;
  participant: string;
  side: 'bid' | 'offer';
  energyWh: number;
  price: string;
  zone: string;
  seq: number;
  source: 'forward' | 'metered';
  status: string;
  partners: string[] | null;
  greenOnly: boolean;
}

/** A row of the ledger's `trades` table, as households' trade lists read it (ledger/queries.ts listTrades), without its interval. */
export type EvidenceTrade = Omit<TradeRow, 'intervalStart'>;

export interface IntervalEvidence {
  start: number;
  interval: string;
  intervalMs: number;
  meterData: EvidenceMeterDataRules;
  meters: EvidenceMeter[];
  /** Every grid meter's series (readings received by its energy's receivedBy), by meter and ts. */
  readings: ReceivedReading[];
  energy: EvidenceEnergy[];
  orders: EvidenceOrder[];
  /** Stored ClearingResults, as stored (canonical JSON), forward first. */
  results: { kind: ClearingKind; json: string }[];
  /** The stored `trades` rows, by kind and seq. */
  trades: EvidenceTrade[];
  accounts: Record<string, string | null>;
  statements: StatementRecord[];
  /** Decisions on earlier held meter data that this interval's statements carry (ledger/meter-data.ts adjustmentGroups). */
  adjustments: AdjustmentGroup[];
}

interface Stmt {
  get(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown[];
}

type Row = ReadingRow;

const received = (r: Row): ReceivedReading => ({ ...readingFromRow(r), receivedAt: r.received_at });

/** Reads evidence from a ledger; statements are prepared once per loader. */
export class EvidenceLoader {
  readonly #s: Record<'energy' | 'span' | 'before' | 'after' | 'orders' | 'results' | 'trades', Stmt>;
  readonly #ledger: Ledger;
  readonly #rules: EvidenceMeterDataRules;
  #accounts: Record<string, string | null> | undefined;

  constructor(ledger: Ledger, readonly intervalMs: number, rules?: Partial<EvidenceMeterDataRules>) {
    const db = ledger.db;
    this.#ledger = ledger;
    this.#rules = { lookMs: Math.max(intervalMs, 15 * 60_000), maxGapMs: DEFAULT_METER_DATA_RULES.maxGapMs, ...rules };
    this.#s = {
      energy: db.prepare(
        `SELECT e.meter_id AS meterId, e.import_wh AS importWh, e.export_wh AS exportWh, e.quality, e.status, e.reasons, e.method,
                e.first_reading_ts AS firstTs, e.last_reading_ts AS lastTs, e.received_by AS receivedBy, m.participant_id AS participant, m.gateway, m.role, m.rated_power_w AS ratedPowerW
         FROM interval_energy e JOIN meters m ON m.id = e.meter_id WHERE e.interval_start = ? AND m.role = 'grid' ORDER BY e.meter_id`,
      ),
      // The series window of every grid meter at once; the readings beyond it per meter (ledger/meter-data.ts meterSeriesReadings):
      // of the readings received by the step's cut-off, as the step read them.
      span: db.prepare(
        `SELECT r.* FROM interval_energy e JOIN meters m ON m.id = e.meter_id JOIN readings r ON r.meter_id = e.meter_id AND r.ts >= ? AND r.ts <= ?
           AND r.received_at <= COALESCE(e.received_by, ${NO_CUTOFF})
         WHERE e.interval_start = ? AND m.role = 'grid' ORDER BY r.meter_id, r.ts`,
      ),
      before: db.prepare('SELECT * FROM readings WHERE meter_id = ? AND ts < ? AND received_at <= ? ORDER BY ts DESC LIMIT ?'),
      after: db.prepare('SELECT * FROM readings WHERE meter_id = ? AND ts > ? AND received_at <= ? ORDER BY ts ASC LIMIT ?'),
      orders: db.prepare(
        `SELECT id, participant_id AS participant, side, energy_wh AS energyWh, price, zone, seq, source, status, partners, green_only AS greenOnly
         FROM orders WHERE interval_start = ? ORDER BY source, seq, id`,
      ),
      results: db.prepare(`SELECT kind, result FROM clearing_results WHERE interval_start = ? ORDER BY kind`),
      trades: db.prepare(
        `SELECT kind, seq, buyer_order AS buyOrder, seller_order AS sellOrder, buyer, seller, energy_wh AS energyWh, price, fee
         FROM trades WHERE interval_start = ? ORDER BY kind, seq`,
      ),
    };
  }

  /** Intervals in [from, to) that the ledger settled (have credits records), oldest first. */
  settledStarts(from: number, to: number): number[] {
    return (this.#ledger.db.prepare('SELECT interval_start AS start FROM settlement_credits WHERE interval_start >= ? AND interval_start < ? ORDER BY interval_start').all(from, to) as { start: number }[]).map((r) => r.start);
  }

  accounts(): Record<string, string | null> {
    this.#accounts ??= Object.fromEntries((this.#ledger.db.prepare('SELECT id, account FROM participants ORDER BY id').all() as { id: string; account: string | null }[]).map((p) => [p.id, p.account]));
    return this.#accounts;
  }

  load(start: number): IntervalEvidence {
    const end = start + this.intervalMs;
    const { lookMs } = this.#rules;
    const rows = this.#s.energy.all(start) as (Omit<EvidenceEnergy, 'reasons'> & { reasons: string; participant: string; gateway: string | null; role: 'grid' | 'pv'; ratedPowerW: number | null })[];
    const readings: ReceivedReading[] = [];
    const span = new Map<string, Row[]>();
    for (const x of this.#s.span.all(start - lookMs, end + lookMs, start) as Row[]) {
      const list = span.get(x.meter_id);
      if (list) list.push(x);
      else span.set(x.meter_id, [x]);
    }
    for (const r of rows) {
      const by = r.receivedBy ?? NO_CUTOFF;
      const before = (this.#s.before.all(r.meterId, start - lookMs, by, SERIES_EXTRA_READINGS) as Row[]).reverse();
      const after = this.#s.after.all(r.meterId, end + lookMs, by, SERIES_EXTRA_READINGS) as Row[];
      for (const x of [...before, ...(span.get(r.meterId) ?? []), ...after]) readings.push(received(x));
    }
    const orders = (this.#s.orders.all(start) as (Omit<EvidenceOrder, 'partners' | 'greenOnly'> & { partners: string | null; greenOnly: number })[]).map((o) => ({
      ...o,
      partners: o.partners === null ? null : (JSON.parse(o.partners) as string[]),
      greenOnly: o.greenOnly === 1,
    }));
    const results = (this.#s.results.all(start) as { kind: ClearingKind; result: string }[]).map((r) => ({ kind: r.kind, json: r.result }));
    return {
      start,
      interval: toIso(start),
      intervalMs: this.intervalMs,
      meterData: { ...this.#rules },
      meters: rows.map((r) => ({ id: r.meterId, participant: r.participant, gateway: r.gateway, role: r.role, ratedPowerW: r.ratedPowerW })),
      readings,
      energy: rows.map((r) => ({
        meterId: r.meterId,
        importWh: r.importWh,
        exportWh: r.exportWh,
        quality: r.quality,
        status: r.status,
        reasons: JSON.parse(r.reasons) as MeterDataReasonValue[],
        method: r.method,
        firstTs: r.firstTs,
        lastTs: r.lastTs,
        receivedBy: r.receivedBy,
      })),
      orders,
      results,
      trades: this.#s.trades.all(start) as EvidenceTrade[],
      accounts: this.accounts(),
      statements: listStatements(this.#ledger, start),
      // Only the decisions this interval's statements carry (applied in it): later decisions belong to a later statement.
      adjustments: adjustmentGroups(this.#ledger, start).filter((g) => g.holds.every((h) => h.appliedIn === start)),
    };
  }
}

export function parseResult(json: string): ClearingResult {
  return JSON.parse(json) as ClearingResult;
}
