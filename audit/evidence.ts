import type { Ledger } from '../ledger/ledger.js';
import { readingFromRow, type ReadingRow, type StoredReading } from '../ledger/readings.js';
import type { ClearingKind, ClearingResult } from '../core/market.js';
import { listClearingResultJson, listIntervalTrades, type TradeRow } from '../ledger/clearing.js';
import { toIso } from '../core/interval.js';
import { listIntervalStatements, listSettledStarts, type StatementRecord } from '../ledger/statements.js';
import { adjustmentGroups, listGridSeriesReadings, type AdjustmentGroup } from '../ledger/meter-data.js';
import { listGridMeterEnergy, type GridMeterEnergyRow } from '../ledger/interval-energy.js';
import { listIntervalOrders } from '../ledger/orders.js';
import { listParticipants } from '../ledger/participants.js';
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

/**
 * A reading as its gateway signed it: the ledger's stored reading without when it was received (what a signature
 * covers).
 */
export type EvidenceReading = Omit<StoredReading, 'receivedAt'>;

/**
 * A reading as the evidence carries it: signed values and when the ledger received it (operator-written, not signed).
 */
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

/** A grid meter's validated energy as the metering step stored it (the meter's own fields are in `meters`). */
export type EvidenceEnergy = Omit<GridMeterEnergyRow, 'participant' | 'gateway' | 'role' | 'ratedPowerW'>;

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

/**
 * A row of the ledger's `trades` table, as households' trade lists read it (ledger/clearing.ts listTrades), without its
 * interval.
 */
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
  /**
   * Decisions on earlier held meter data that this interval's statements carry (ledger/meter-data.ts adjustmentGroups).
   */
  adjustments: AdjustmentGroup[];
}

const received = (r: ReadingRow): ReceivedReading => ({ ...readingFromRow(r), receivedAt: r.received_at });

/** Reads evidence from a ledger (its statements are prepared once per ledger: ledger/prepared.ts). */
export class EvidenceLoader {
  readonly #ledger: Ledger;
  readonly #rules: EvidenceMeterDataRules;
  #accounts: Record<string, string | null> | undefined;

  constructor(
    ledger: Ledger,
    readonly intervalMs: number,
    rules?: Partial<EvidenceMeterDataRules>,
  ) {
    this.#ledger = ledger;
    this.#rules = { lookMs: Math.max(intervalMs, 15 * 60_000), maxGapMs: DEFAULT_METER_DATA_RULES.maxGapMs, ...rules };
  }

  /** Intervals in [from, to) that the ledger settled (have credits records), oldest first. */
  settledStarts(from: number, to: number): number[] {
    return listSettledStarts(this.#ledger, from, to);
  }

  accounts(): Record<string, string | null> {
    this.#accounts ??= Object.fromEntries(listParticipants(this.#ledger).map((p) => [p.id, p.account]));
    return this.#accounts;
  }

  load(start: number): IntervalEvidence {
    const end = start + this.intervalMs;
    const rows = listGridMeterEnergy(this.#ledger, start);
    // Each grid meter's series as the metering step read it: of the readings received by its cut-off.
    const readings = listGridSeriesReadings(this.#ledger, start, end, this.#rules.lookMs, rows).map(received);
    return {
      start,
      interval: toIso(start),
      intervalMs: this.intervalMs,
      meterData: { ...this.#rules },
      meters: rows.map((r) => ({
        id: r.meterId,
        participant: r.participant,
        gateway: r.gateway,
        role: r.role,
        ratedPowerW: r.ratedPowerW,
      })),
      readings,
      energy: rows.map((r) => ({
        meterId: r.meterId,
        importWh: r.importWh,
        exportWh: r.exportWh,
        quality: r.quality,
        status: r.status,
        reasons: r.reasons,
        method: r.method,
        firstTs: r.firstTs,
        lastTs: r.lastTs,
        receivedBy: r.receivedBy,
      })),
      orders: listIntervalOrders(this.#ledger, start),
      results: listClearingResultJson(this.#ledger, start),
      trades: listIntervalTrades(this.#ledger, start),
      accounts: this.accounts(),
      statements: listIntervalStatements(this.#ledger, start),
      // Only the decisions this interval's statements carry (applied in it): later decisions belong to a later
      // statement.
      adjustments: adjustmentGroups(this.#ledger, start).filter((g) => g.holds.every((h) => h.appliedIn === start)),
    };
  }
}

export function parseResult(json: string): ClearingResult {
  return JSON.parse(json) as ClearingResult;
}
