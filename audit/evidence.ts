import type { Ledger } from '../ledger/ledger.js';
import {
  earliestReceiptBeyond,
  listGridReadingsSpan,
  readingFromRow,
  type ReadingRow,
  type StoredReading,
} from '../ledger/readings.js';
import type { ClearingKind, ClearingResult } from '../core/market.js';
import { listClearingResultJson, listIntervalTrades, type TradeRow } from '../ledger/clearing.js';
import { toIso } from '../core/interval.js';
import { listIntervalStatements, listSettledStarts, type StatementRecord } from '../ledger/statements.js';
import {
  adjustmentGroups,
  listGridSeriesReadings,
  NO_CUTOFF,
  SERIES_EXTRA_READINGS,
  type AdjustmentGroup,
} from '../ledger/meter-data.js';
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

/**
 * Readings of every grid meter over a span of market time, read in one query
 * and kept for the consecutive intervals the span serves: a meter's series
 * reaches about an interval and SERIES_EXTRA_READINGS readings either side, so
 * an interval's readings are also its neighbours' and the month's audit read
 * each about 13 times (one query per interval and two per meter: ~16 % of its
 * CPU, and the objects' garbage collection). A reading is one object for every
 * interval that uses it, so the signer cache knows it by identity.
 */
export interface ReadingBlock {
  /** Every grid meter's readings with from ≤ ts ≤ to (any receipt), by meter, oldest first. */
  from: number;
  to: number;
  byMeter: Map<string, ReceivedReading[]>;
  /**
   * Per meter, the earliest receipt of its readings before `from` and after `to` (asked when a series' extra readings
   * are not all inside the block): a cut-off below it means there are none outside.
   */
  beyond: (meterId: string, side: 'before' | 'after') => number | null;
}

/** Index of the first reading with ts ≥ t (ts ascending). */
function firstAtOrAfter(list: readonly ReceivedReading[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.ts < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A meter's series (ledger/meter-data.ts meterSeriesReadings: from ≤ ts ≤ to, and SERIES_EXTRA_READINGS either side,
 * of the readings received by `by`) out of a block holding every reading from block.from to block.to, appended to
 * `out`; false when the block cannot show it has the extra readings (fewer of them inside it, and a reading outside it
 * was received by the cut-off). Appended in place: no array of its own for each meter of each interval (and none for
 * the readings before it).
 */
export function seriesFromBlock(
  block: Pick<ReadingBlock, 'byMeter' | 'beyond'>,
  meterId: string,
  from: number,
  to: number,
  by: number,
  out: ReceivedReading[],
): boolean {
  const list = block.byMeter.get(meterId) ?? [];
  const i = firstAtOrAfter(list, from);
  const j = firstAtOrAfter(list, to + 1);
  // Back from i to the SERIES_EXTRA_READINGS-th reading received by the cut-off (or the block's first).
  let k = i;
  let before = 0;
  while (k > 0 && before < SERIES_EXTRA_READINGS) if (list[--k]!.receivedAt <= by) before++;
  if (before < SERIES_EXTRA_READINGS && !nothingBeyond(block.beyond(meterId, 'before'), by)) return false;
  for (; k < j; k++) if (list[k]!.receivedAt <= by) out.push(list[k]!);
  let after = 0;
  for (; k < list.length && after < SERIES_EXTRA_READINGS; k++)
    if (list[k]!.receivedAt <= by) {
      out.push(list[k]!);
      after++;
    }
  return after >= SERIES_EXTRA_READINGS || nothingBeyond(block.beyond(meterId, 'after'), by);
}

/** No reading outside the block was received by the cut-off `by`. */
const nothingBeyond = (earliestReceipt: number | null, by: number): boolean =>
  earliestReceipt === null || earliestReceipt > by;

/** Intervals a block serves at most, and the readings it should hold at most (the block shrinks for dense series). */
const BLOCK_INTERVALS = 48;
const BLOCK_ROWS = 200_000;
/** Market time read beyond a block's series windows, in intervals: room for the extra readings at one per interval. */
const BLOCK_PAD_INTERVALS = SERIES_EXTRA_READINGS + 3;

/** Reads evidence from a ledger (its statements are prepared once per ledger: ledger/prepared.ts). */
export class EvidenceLoader {
  readonly #ledger: Ledger;
  readonly #rules: EvidenceMeterDataRules;
  #accounts: Record<string, string | null> | undefined;
  #block: ReadingBlock | undefined;
  /** Intervals the next block serves: grows while intervals are loaded in order, from 1 for a single interval. */
  #blockIntervals = 1;

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

  /**
   * `following`: how many intervals the caller loads next, in order (an audit worker's run of 96): a block read anew
   * then serves them from the start. Growing from one interval (1, 2, 4, … 48), a block reading ~10 intervals of
   * readings beyond each end, a run read 251 intervals' readings for its 96 (with this 136), and made new objects of
   * those it read again (new to the signer cache and the leaf hashes, which know readings by object).
   */
  load(start: number, following = 0): IntervalEvidence {
    const end = start + this.intervalMs;
    const rows = listGridMeterEnergy(this.#ledger, start);
    // Each grid meter's series as the metering step read it: of the readings received by its cut-off.
    const readings = this.#series(start, end, rows, following);
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

  /**
   * Every grid meter's series for the interval, meter after meter in the order of `rows` (as listGridSeriesReadings
   * gives them): from the current block of readings, read anew when the interval is outside it; straight from the
   * ledger when the block cannot show a meter's extra readings (a long gap, the ledger's first and last readings).
   */
  #series(start: number, end: number, rows: readonly GridMeterEnergyRow[], following: number): ReceivedReading[] {
    const from = start - this.#rules.lookMs;
    const to = end + this.#rules.lookMs;
    let block = this.#block;
    if (!block || from < block.from || to > block.to) {
      // Loaded in order (the interval just after the block): the next block serves more intervals.
      const next = block !== undefined && to > block.to && to - block.to <= 2 * this.intervalMs;
      this.#blockIntervals = Math.min(BLOCK_INTERVALS, Math.max(next ? this.#blockIntervals * 2 : 1, following + 1));
      const pad = BLOCK_PAD_INTERVALS * this.intervalMs;
      block = this.#readBlock(from - pad, to + (this.#blockIntervals - 1) * this.intervalMs + pad);
    }
    const out: ReceivedReading[] = [];
    for (const r of rows)
      if (!seriesFromBlock(block, r.meterId, from, to, r.receivedBy ?? NO_CUTOFF, out))
        return listGridSeriesReadings(this.#ledger, start, end, this.#rules.lookMs, rows).map(received);
    return out;
  }

  #readBlock(from: number, to: number): ReadingBlock {
    const byMeter = new Map<string, ReceivedReading[]>();
    const rows = listGridReadingsSpan(this.#ledger, from, to);
    for (const row of rows) {
      const r = received(row);
      const list = byMeter.get(r.meterId);
      if (list) list.push(r);
      else byMeter.set(r.meterId, [r]);
    }
    // Dense series (readings every few seconds): smaller blocks keep the memory bounded.
    if (rows.length > BLOCK_ROWS) this.#blockIntervals = Math.max(1, this.#blockIntervals >> 2);
    const beyond = new Map<string, number | null>();
    const ledger = this.#ledger;
    return (this.#block = {
      from,
      to,
      byMeter,
      beyond(meterId, side) {
        const key = `${side} ${meterId}`;
        let r = beyond.get(key);
        if (r === undefined)
          beyond.set(key, (r = earliestReceiptBeyond(ledger, meterId, side === 'before' ? from : to, side)));
        return r;
      },
    });
  }
}

export function parseResult(json: string): ClearingResult {
  return JSON.parse(json) as ClearingResult;
}
