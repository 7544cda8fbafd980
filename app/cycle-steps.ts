import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config/schema.js';
import type { EventBus } from '../core/events.js';
import { intervalEnd, toIso } from '../core/interval.js';
import { stateRank } from '../core/interval-state.js';
import { rulesFromConfig } from '../matching-engine/index.js';
import { closeForwardOrders, insertMeteredOrders, rejectOrders } from '../ledger/orders.js';
import { listMeters, listParticipants } from '../ledger/participants.js';
import { countMetersWithoutReadingFrom } from '../ledger/readings.js';
import type { Ledger } from '../ledger/ledger.js';
import { getInterval } from '../ledger/intervals.js';
import { getClearing, saveClearing } from '../ledger/clearing.js';
import { nextReadingsCutoff } from '../ledger/readings-cutoff.js';
import {
  bracketingFromSeries,
  eachMeterSeries,
  listMeterHolds,
  metersForValidation,
  saveMeterIntervalEnergies,
  type MeterForValidation,
  type MeterSeriesReading,
  type StoredMeterIntervalEnergy,
} from '../ledger/meter-data.js';
import { DEFAULT_RATED_POWER_W, maxGapFor, validateMeterSeries } from '../settlement/meter-data/index.js';
import { clearMetered, type MeteredPosition } from '../settlement/metered-orders.js';
import { estimateExpiredHolds } from '../settlement/holds.js';
import { clearMeterDataAlarms, raiseMeterDataAlarms } from './meter-data-alarms.js';
import { settleInterval } from '../settlement/index.js';
import { getSettlementStatus } from '../ledger/statements.js';
import type { CycleSteps } from './interval-cycle.js';
import { LiveBooks } from './live-books.js';

export interface CycleStepsDeps {
  ledger: Ledger;
  config: Config;
  clock: Clock;
  bus: EventBus;
  /** Market clock speed when it differs from config.clock.speed (mgx start --speed). */
  speed?: number;
  /** Wakes the chain submitter; absent when no chain is configured (tests of the ledger steps). */
  wakeSubmitter?: () => void;
  /**
   * The live forward books the API fills (app/start.ts shares one with the dashboard); absent: the steps keep their
   * own, rebuilt from the ledger at gate closure.
   */
  books?: LiveBooks;
}

interface ParticipantPolicy {
  id: string;
  zone: string;
  minSell: string;
  maxBuy: string;
}

/**
 * The real lifecycle steps: the matching engine for forward and metered
 * clearing, the bridge's readings for interval energy, settlement for
 * statements and credits, and the submitter (which moves an interval to
 * committed and final itself, in the same transaction as its journal) for the
 * chain.
 */
export function createCycleSteps(d: CycleStepsDeps): CycleSteps {
  const { ledger, config, clock, bus } = d;
  const minutes = config.market.intervalMinutes;
  const rules = rulesFromConfig(config.market);
  const books = d.books ?? new LiveBooks(ledger, config, rules);

  const emitCleared = (start: number, kind: 'forward' | 'metered'): void => {
    const r = getClearing(ledger, start, kind);
    if (!r) return;
    bus.emit({
      type: 'interval-cleared',
      interval: r.interval,
      kind,
      clearingPrice: r.clearingPrice,
      matchedWh: r.matchedWh,
      trades: r.trades.length,
    });
  };

  const intervalMs = minutes * 60_000;
  // Readings are recorded every recordEveryMs of market time, or once per poll when polls are sparser (a fast clock):
  // missing one record is a gap, jitter is not.
  const speed = d.speed ?? config.clock.speed;
  const maxGapMs = maxGapFor({
    recordEveryMs: config.bridge.recordEveryMs,
    pollIntervalMs: config.bridge.pollIntervalMs,
    speed,
  });
  const lookMs = Math.max(intervalMs, 15 * 60_000);
  const holdWindowMs = ((config.meterData as Config['meterData'] | undefined)?.holdWindowHours ?? 48) * 3_600_000;

  /**
   * Validates every meter's energy for [start, end) on its readings (settlement/meter-data) and stores status, reasons,
   * method and the receipt cut-off: the readings received by it are what the step knew, and what the audit re-validates
   * on (ledger/readings-cutoff.ts). Readings received later count in later intervals (as their baselines) and in
   * decisions on this interval's holds, never in this interval's own validation.
   */
  type ValidatedRow = StoredMeterIntervalEnergy & { role: 'grid' | 'pv' };
  const validateInterval = (start: number, end: number, now: number): ValidatedRow[] => {
    const receivedBy = nextReadingsCutoff(ledger, now);
    const meters = metersForValidation(ledger);
    const at = new Map(meters.map((m, i) => [m.id, i]));
    const validate = (m: MeterForValidation, readings: MeterSeriesReading[]): ValidatedRow => {
      const [e] = validateMeterSeries({
        meterId: m.id,
        role: m.role,
        ratedPowerW: m.ratedPowerW ?? DEFAULT_RATED_POWER_W[m.role],
        intervalMs,
        intervals: [start],
        readings,
        rules: { maxGapMs },
      });
      const b = bracketingFromSeries(readings, start, end);
      return { ...e!, firstReadingTs: b.first, lastReadingTs: b.last, receivedBy, role: m.role };
    };
    // Every meter's series in one statement, each validated as it is read (so only one meter's readings are alive at
    // a time); the bracketing readings are read off each series. A meter without readings is validated on none.
    const rows: (ValidatedRow | undefined)[] = new Array<ValidatedRow | undefined>(meters.length);
    eachMeterSeries(ledger, start, end, lookMs, receivedBy, (id, readings) => {
      const i = at.get(id);
      if (i !== undefined) rows[i] = validate(meters[i]!, readings);
    });
    for (let i = 0; i < meters.length; i++) rows[i] ??= validate(meters[i]!, []);
    const validated = rows as ValidatedRow[];
    saveMeterIntervalEnergies(ledger, validated, now);
    return validated;
  };

  return {
    clearForward(start) {
      // The live book was filled as orders arrived, each validated then; what its rebuild from the ledger refused
      // (rows the engine no longer takes) is recorded here with its reason, never stopping the interval.
      const { book, refused } = books.take(start);
      rejectOrders(ledger, refused);
      const result = book.clear('forward');
      saveClearing(ledger, result, clock.now());
      if (refused.length > 0) {
        const first = refused[0]!;
        queueMicrotask(() =>
          bus.emit({
            type: 'alarm',
            severity: 'warning',
            code: 'ORDER_EXCLUDED',
            message: `${refused.length} forward order(s) for ${toIso(start)} were excluded at gate closure (${first.id}: ${first.reason})`,
            subject: toIso(start),
            at: new Date(clock.now()).toISOString(),
          }),
        );
      }
      closeForwardOrders(ledger, start);
      queueMicrotask(() => emitCleared(start, 'forward'));
    },

    readingsComplete(start) {
      // Complete when every meter has a reading at or after the interval's end (so its counters bracket it).
      const end = intervalEnd(start, minutes);
      return countMetersWithoutReadingFrom(ledger, end) === 0;
    },

    meter(start) {
      const end = intervalEnd(start, minutes);
      const now = clock.now();
      const energies = validateInterval(start, end, now);
      const byMeter = new Map(energies.map((e) => [e.meterId, e]));
      raiseMeterDataAlarms(bus, start, energies, now);
      // Holds nobody decided within the window are estimated now; the next statement carries them.
      const expired = estimateExpiredHolds(ledger, { intervalMs, rules: { maxGapMs }, windowMs: holdWindowMs }, now);
      for (const h of expired) {
        bus.emit({
          type: 'alarm',
          severity: 'info',
          code: 'METER_DATA_HOLD_ESTIMATED',
          subject: h.interval,
          message: `held data of ${h.meterId} for ${h.interval} had no decision within the window and is estimated: import ${h.decidedImportWh} Wh, export ${h.decidedExportWh} Wh`,
          at: new Date(now).toISOString(),
        });
      }
      if (expired.length > 0) {
        const all = listMeterHolds(ledger);
        for (const s of new Set(expired.map((h) => h.intervalStart))) clearMeterDataAlarms(bus, all, s, now);
      }

      // What forward trades already sold and bought is not offered again.
      const forward = getClearing(ledger, start, 'forward');
      const sold = new Map<string, number>();
      const bought = new Map<string, number>();
      for (const t of forward?.trades ?? []) {
        sold.set(t.seller, (sold.get(t.seller) ?? 0) + t.energyWh);
        bought.set(t.buyer, (bought.get(t.buyer) ?? 0) + t.energyWh);
      }

      const participants = listParticipants(ledger);
      const policies: ParticipantPolicy[] = participants.map((p) => ({
        id: p.id,
        zone: p.zone,
        // Without a standing price a household accepts the feed-in tariff and pays up to the retail tariff:
        // it never does worse than trading with the grid.
        minSell: p.minSellPrice ?? config.market.feedInTariff,
        maxBuy: p.maxBuyPrice ?? config.market.retailTariff,
      }));
      const gridMeters = new Map<string, string[]>();
      for (const m of listMeters(ledger)) {
        if (m.role !== 'grid') continue;
        const ids = gridMeters.get(m.participantId);
        if (ids) ids.push(m.id);
        else gridMeters.set(m.participantId, [m.id]);
      }
      // Only actual energy trades: a participant trades in metered clearing when every grid meter it has is actual.
      const positions: MeteredPosition[] = [];
      for (const p of policies) {
        const es = (gridMeters.get(p.id) ?? []).map((id) => byMeter.get(id));
        if (es.length === 0 || es.some((e) => !e || e.status !== 'actual')) continue;
        positions.push({
          participant: p.id,
          zone: p.zone,
          minSell: p.minSell,
          maxBuy: p.maxBuy,
          importWh: es.reduce((s, e) => s + e!.importWh, 0),
          exportWh: es.reduce((s, e) => s + e!.exportWh, 0),
          forwardSoldWh: sold.get(p.id) ?? 0,
          forwardBoughtWh: bought.get(p.id) ?? 0,
        });
      }
      // The book is built straight into columns as the orders are derived (settlement/metered-orders.ts).
      const { orders, result } = clearMetered(start, positions, rules);
      // The metered orders are stored with the result, so an auditor can re-run the clearing.
      insertMeteredOrders(ledger, start, orders, now);
      saveClearing(ledger, result, now);
      // Announced from the result just stored, not read back: at 10,000 households its JSON is megabytes to parse.
      queueMicrotask(() =>
        bus.emit({
          type: 'interval-cleared',
          interval: result.interval,
          kind: 'metered',
          clearingPrice: result.clearingPrice,
          matchedWh: result.matchedWh,
          trades: result.trades.length,
        }),
      );
    },

    settle(start) {
      settleInterval(ledger, start, config, clock.now());
    },

    async commit(start) {
      // An interval with no metered export has no credits and nothing to commit on chain.
      if (!d.wakeSubmitter || getSettlementStatus(ledger, start) === 'empty') return 'done';
      d.wakeSubmitter();
      const s = getInterval(ledger, start)?.state;
      return s && stateRank(s) >= stateRank('committed') ? 'done' : 'pending';
    },

    async confirm(start) {
      if (!d.wakeSubmitter || getSettlementStatus(ledger, start) === 'empty') return true;
      d.wakeSubmitter();
      return getInterval(ledger, start)?.state === 'final';
    },
  };
}
