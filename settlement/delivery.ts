import type { ClearingKind, Trade } from '../core/market.js';
import type { Wh } from '../core/units.js';
import { MicrogridError } from '../core/errors.js';

/**
 * Metered delivery of one interval. Metered trades are deliverable by
 * construction and are delivered as cleared. Forward trades are checked
 * against the seller's metered export (what is left after its metered
 * trades): a seller that delivered less than it sold has all its forward
 * trades reduced pro rata, in integer Wh by largest remainder (ties by trade
 * order), so the delivered total is exactly what it had.
 */

export interface IntervalTrade extends Trade {
  kind: ClearingKind;
  /** Position of the trade in its ClearingResult. */
  seq: number;
  /** Set by McAfee trade reduction (core/market.ts); absent: the buyer pays price + fee. */
  buyerPrice?: string;
}

export interface DeliveredTrade extends IntervalTrade {
  deliveredWh: Wh;
}

export interface MeteredEnergy {
  importWh: Wh;
  exportWh: Wh;
}

export function deliver(
  interval: string,
  trades: readonly IntervalTrade[],
  energy: ReadonlyMap<string, MeteredEnergy>,
): DeliveredTrade[] {
  const meteredSold = new Map<string, Wh>();
  const forwardSold = new Map<string, Wh>();
  for (const t of trades) {
    const m = t.kind === 'metered' ? meteredSold : forwardSold;
    m.set(t.seller, (m.get(t.seller) ?? 0) + t.energyWh);
  }
  const available = new Map<string, Wh>();
  for (const [seller, sold] of meteredSold) {
    const exported = energy.get(seller)?.exportWh ?? 0;
    if (sold > exported) {
      throw new MicrogridError(
        'SETTLEMENT_INVARIANT',
        `interval ${interval}: metered trades of ${seller} exceed its metered export`,
        {
          field: `trades.seller=${seller}`,
          value: sold,
          expected: `at most the metered export, ${exported} Wh`,
        },
      );
    }
  }
  for (const seller of forwardSold.keys())
    available.set(seller, Math.max(0, (energy.get(seller)?.exportWh ?? 0) - (meteredSold.get(seller) ?? 0)));

  const delivered = new Map<IntervalTrade, Wh>();
  for (const [seller, sold] of forwardSold) {
    const have = available.get(seller) ?? 0;
    const own = trades.filter((t) => t.kind === 'forward' && t.seller === seller);
    if (sold <= have) {
      for (const t of own) delivered.set(t, t.energyWh);
      continue;
    }
    // pro rata with largest remainder: exact integer arithmetic (Wh × Wh fits 2^53 for any real interval)
    let given = 0;
    const parts = own.map((t) => {
      const num = t.energyWh * have;
      const base = Math.floor(num / sold);
      given += base;
      return { t, base, rem: num - base * sold };
    });
    parts.sort((a, b) => b.rem - a.rem || a.t.seq - b.t.seq);
    for (let i = 0; i < have - given; i++) parts[i]!.base += 1;
    for (const p of parts) delivered.set(p.t, p.base);
  }
  return trades.map((t) => ({ ...t, deliveredWh: t.kind === 'metered' ? t.energyWh : (delivered.get(t) ?? 0) }));
}
