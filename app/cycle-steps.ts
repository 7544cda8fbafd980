import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config/schema.js';
import type { EventBus } from '../core/events.js';
import { intervalEnd, toIso, toUnixSeconds } from '../core/interval.js';
import { stateRank } from '../core/interval-state.js';
import { deliverableWh, type OrderInput } from '../core/market.js';
import { clearBook, rulesFromConfig, screenOrders } from '../matching-engine/index.js';
import { rejectOrders } from '../ledger/orders.js';
import { listMeters } from '../ledger/participants.js';
import type { Ledger } from '../ledger/ledger.js';
import { getInterval } from '../ledger/intervals.js';
import { getClearing, saveClearing } from '../ledger/clearing.js';
import { upsertIntervalEnergy } from '../ledger/readings.js';
import { settleInterval } from '../settlement/index.js';
import { getSettlementCredits } from '../ledger/statements.js';
import type { CycleSteps } from './interval-cycle.js';

export interface CycleStepsDeps {
  ledger: Ledger;
  config: Config;
  clock: Clock;
  bus: EventBus;
  /** Wakes the chain submitter; absent when no chain is configured (tests of the ledger steps). */
  wakeSubmitter?: () => void;
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

  const emitCleared = (start: number, kind: 'forward' | 'metered'): void => {
    const r = getClearing(ledger, start, kind);
    if (!r) return;
    bus.emit({ type: 'interval-cleared', interval: r.interval, kind, clearingPrice: r.clearingPrice, matchedWh: r.matchedWh, trades: r.trades.length });
  };

  return {
    clearForward(start) {
      const rows = ledger.db
        .prepare(
          `SELECT o.id, o.participant_id AS participant, o.side, o.energy_wh AS energyWh, o.price, o.zone, o.seq, o.partners, o.green_only AS greenOnly
           FROM orders o WHERE o.interval_start = ? AND o.source = 'forward' AND o.status = 'open'`,
        )
        .all(start) as (Omit<OrderInput, 'interval' | 'partners' | 'greenOnly'> & { partners: string | null; greenOnly: number })[];
      const orders: OrderInput[] = rows.map((r) => ({
        id: r.id,
        participant: r.participant,
        side: r.side,
        interval: toIso(start),
        energyWh: r.energyWh,
        price: r.price,
        zone: r.zone,
        seq: r.seq,
        ...(r.partners ? { partners: JSON.parse(r.partners) as string[] } : {}),
        ...(r.greenOnly ? { greenOnly: true } : {}),
      }));
      // One order the engine cannot take (too large, off the price grid, an edited row) is left out
      // with its reason, never the whole interval: the others clear at gate closure as planned.
      const meters = listMeters(ledger);
      const capacity = new Map<string, number>();
      const capacityOf = (p: string): number => {
        let c = capacity.get(p);
        if (c === undefined) capacity.set(p, (c = deliverableWh(meters.filter((m) => m.participantId === p), minutes)));
        return c;
      };
      const screened = screenOrders({ interval: toIso(start), kind: 'forward', orders }, rules, capacityOf);
      const rejected = screened.excluded.flatMap((e) => (e.id === null ? [] : [{ id: e.id, reason: `${e.code}: ${e.reason}` }]));
      rejectOrders(ledger, rejected);
      const result = clearBook({ interval: toIso(start), kind: 'forward', orders: screened.orders }, rules);
      saveClearing(ledger, result, clock.now());
      if (rejected.length > 0) {
        const first = rejected[0]!;
        queueMicrotask(() =>
          bus.emit({ type: 'alarm', severity: 'warning', code: 'ORDER_EXCLUDED', message: `${rejected.length} forward order(s) for ${toIso(start)} were excluded at gate closure (${first.id}: ${first.reason})`, subject: toIso(start), at: new Date(clock.now()).toISOString() }),
        );
      }
      ledger.db.prepare("UPDATE orders SET status = 'closed' WHERE interval_start = ? AND source = 'forward' AND status = 'open'").run(start);
      queueMicrotask(() => emitCleared(start, 'forward'));
    },

    readingsComplete(start) {
      // Complete when every meter has a reading at or after the interval's end (so its counters bracket it).
      const end = intervalEnd(start, minutes);
      const missing = ledger.db
        .prepare('SELECT COUNT(*) AS n FROM meters m WHERE NOT EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = m.id AND r.ts >= ?)')
        .get(end) as { n: number };
      return missing.n === 0;
    },

    meter(start) {
      const end = intervalEnd(start, minutes);
      const energies = upsertIntervalEnergy(ledger, start, end);
      const byMeter = new Map(energies.map((e) => [e.meterId, e]));
      const now = clock.now();
      for (const quality of ['missing', 'suspect'] as const) {
        const bad = energies.filter((e) => e.quality === quality);
        if (bad.length === 0) continue;
        const first = bad[0]!;
        bus.emit({
          type: 'alarm',
          severity: 'warning',
          code: quality === 'missing' ? 'METER_DATA_MISSING' : 'METER_DATA_SUSPECT',
          message: `${bad.length} meter(s) have ${quality} data for ${toIso(start)} and do not trade in metered clearing for it: ${bad.map((e) => e.meterId).join(', ')} (${first.meterId}: ${first.reasons.join('; ')})`,
          subject: toIso(start),
          at: new Date(now).toISOString(),
        });
      }

      // What forward trades already sold and bought is not offered again.
      const forward = getClearing(ledger, start, 'forward');
      const sold = new Map<string, number>();
      const bought = new Map<string, number>();
      for (const t of forward?.trades ?? []) {
        sold.set(t.seller, (sold.get(t.seller) ?? 0) + t.energyWh);
        bought.set(t.buyer, (bought.get(t.buyer) ?? 0) + t.energyWh);
      }

      const participants = ledger.db
        .prepare('SELECT id, zone, min_sell_price AS minSell, max_buy_price AS maxBuy FROM participants ORDER BY id')
        .all() as { id: string; zone: string; minSell: string | null; maxBuy: string | null }[];
      const policies: ParticipantPolicy[] = participants.map((p) => ({
        id: p.id,
        zone: p.zone,
        // Without a standing price a household accepts the feed-in tariff and pays up to the retail tariff:
        // it never does worse than trading with the grid.
        minSell: p.minSell ?? config.market.feedInTariff,
        maxBuy: p.maxBuy ?? config.market.retailTariff,
      }));
      const gridMeter = new Map(
        (ledger.db.prepare("SELECT participant_id AS p, id FROM meters WHERE role = 'grid' ORDER BY id").all() as { p: string; id: string }[]).map((r) => [r.p, r.id]),
      );
      const orders: OrderInput[] = [];
      const unix = toUnixSeconds(start);
      let seq = 0;
      for (const p of policies) {
        const e = byMeter.get(gridMeter.get(p.id) ?? '');
        if (!e || e.quality !== 'good') continue;
        const offer = e.exportWh - (sold.get(p.id) ?? 0);
        const bid = e.importWh - (bought.get(p.id) ?? 0);
        if (offer > 0) orders.push({ id: `m:${unix}:${p.id}:offer`, participant: p.id, side: 'offer', interval: toIso(start), energyWh: offer, price: p.minSell, zone: p.zone, seq: seq++ });
        if (bid > 0) orders.push({ id: `m:${unix}:${p.id}:bid`, participant: p.id, side: 'bid', interval: toIso(start), energyWh: bid, price: p.maxBuy, zone: p.zone, seq: seq++ });
      }
      const result = clearBook({ interval: toIso(start), kind: 'metered', orders }, rules);
      // The metered orders are stored with the result, so an auditor can re-run the clearing.
      const insert = ledger.db.prepare(
        `INSERT OR IGNORE INTO orders (id, interval_start, participant_id, side, energy_wh, price, zone, seq, source, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'metered', 'closed', ?)`,
      );
      for (const o of orders) insert.run(o.id, start, o.participant, o.side, o.energyWh, o.price, o.zone, o.seq, now);
      saveClearing(ledger, result, now);
      queueMicrotask(() => emitCleared(start, 'metered'));
    },

    settle(start) {
      settleInterval(ledger, start, config, clock.now());
    },

    async commit(start) {
      // An interval with no metered export has no credits and nothing to commit on chain.
      if (!d.wakeSubmitter || getSettlementCredits(ledger, start)?.status === 'empty') return 'done';
      d.wakeSubmitter();
      const s = getInterval(ledger, start)?.state;
      return s && stateRank(s) >= stateRank('committed') ? 'done' : 'pending';
    },

    async confirm(start) {
      if (!d.wakeSubmitter || getSettlementCredits(ledger, start)?.status === 'empty') return true;
      d.wakeSubmitter();
      return getInterval(ledger, start)?.state === 'final';
    },
  };
}
