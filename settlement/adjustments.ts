import { Dec, formatMoney, roundMoney } from '../core/units.js';
import { toIso } from '../core/interval.js';
import type { AdjustmentGroup } from '../ledger/meter-data.js';
import { gridPosition, type StatementAdjustment, type Tariffs } from './statements.js';

/**
 * Decisions on held meter data, priced for a later statement. The held
 * interval's statement billed the participant nothing against the grid; the
 * decision's energy (with its other grid meters of that interval) is netted
 * and priced at the tariffs like a grid position of that interval, against
 * the trades that statement delivered. Accepted export also earns credits,
 * to the producer (a held participant sold nothing in that interval), in a
 * commitment of its own.
 */

export interface PricedAdjustments {
  byParticipant: Map<string, StatementAdjustment[]>;
  /** Accepted export per group, Wh (credits to the producer). */
  accepted: { group: AdjustmentGroup; wh: number }[];
}

export function priceAdjustments(groups: readonly AdjustmentGroup[], tariffs: Tariffs): PricedAdjustments {
  const byParticipant = new Map<string, StatementAdjustment[]>();
  const accepted: PricedAdjustments['accepted'] = [];
  for (const g of groups) {
    const importWh = g.otherImportWh + g.holds.reduce((s, h) => s + (h.decidedImportWh ?? 0), 0);
    const exportWh = g.otherExportWh + g.holds.reduce((s, h) => s + (h.decidedExportWh ?? 0), 0);
    const pos = gridPosition({ importWh, exportWh }, g.boughtWh, g.soldWh);
    const amount = roundMoney(
      new Dec(pos.gridExportWh)
        .mul(tariffs.feedInTariff)
        .div(1000)
        .minus(new Dec(pos.gridImportWh).mul(tariffs.retailTariff).div(1000)),
      tariffs.minorUnits,
    );
    const list = byParticipant.get(g.participantId) ?? [];
    list.push({
      interval: toIso(g.intervalStart),
      meterId: g.holds.map((h) => h.meterId).join(','),
      decision: [...new Set(g.holds.map((h) => h.decision))].join(','),
      status: [...new Set(g.holds.map((h) => h.decidedStatus))].join(','),
      importWh,
      exportWh,
      gridImportWh: pos.gridImportWh,
      gridExportWh: pos.gridExportWh,
      amount: formatMoney(amount, tariffs.minorUnits),
      by: [...new Set(g.holds.map((h) => h.decidedBy))].join(','),
      reason: g.holds.map((h) => h.decisionReason ?? '').join('; '),
    });
    byParticipant.set(g.participantId, list);
    const acc = g.holds
      .filter((h) => h.decision === 'accept' && h.creditedIn === null)
      .reduce((s, h) => s + (h.decidedExportWh ?? 0), 0);
    const wh = Math.max(0, acc - g.soldWh);
    if (wh > 0) accepted.push({ group: g, wh });
  }
  return { byParticipant, accepted };
}
