import type { Address } from 'viem';
import type { Wh } from '../core/units.js';
import { MicrogridError } from '../core/errors.js';
import type { DeliveredTrade, MeteredEnergy } from './delivery.js';

/**
 * Credits of one interval (DESIGN.md): the units the market matched and
 * delivered go to the buyers; the rest of each producer's metered export to
 * the producer. So Σ credits = Σ metered export, which is asserted here,
 * before anything is stored or sent.
 */

export interface Credit {
  account: Address;
  wh: Wh;
  /** Participants whose credits land on this account (usually one). */
  participants: string[];
}

export function computeCredits(
  interval: string,
  trades: readonly DeliveredTrade[],
  energy: ReadonlyMap<string, MeteredEnergy>,
  accountOf: (participant: string) => Address,
): Credit[] {
  const byAccount = new Map<string, Credit>();
  const add = (participant: string, wh: Wh) => {
    if (wh <= 0) return;
    const account = accountOf(participant);
    const key = account.toLowerCase();
    const c = byAccount.get(key) ?? { account, wh: 0, participants: [] };
    c.wh += wh;
    if (!c.participants.includes(participant)) c.participants.push(participant);
    byAccount.set(key, c);
  };
  const sold = new Map<string, Wh>();
  for (const t of trades) {
    add(t.buyer, t.deliveredWh);
    sold.set(t.seller, (sold.get(t.seller) ?? 0) + t.deliveredWh);
  }
  let exportTotal = 0;
  for (const [participant, e] of energy) {
    exportTotal += e.exportWh;
    add(participant, e.exportWh - (sold.get(participant) ?? 0));
  }
  const credits = [...byAccount.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, c]) => ({ ...c, participants: c.participants.sort() }));
  assertCreditsEqualExport(interval, credits, exportTotal);
  return credits;
}

export function assertCreditsEqualExport(interval: string, credits: readonly Credit[], exportWh: Wh): void {
  const total = credits.reduce((s, c) => s + c.wh, 0);
  if (total !== exportWh || credits.some((c) => !Number.isSafeInteger(c.wh) || c.wh <= 0)) {
    throw new MicrogridError(
      'SETTLEMENT_INVARIANT',
      `interval ${interval}: credits ${total} Wh differ from metered export ${exportWh} Wh`,
      {
        field: 'credits',
        value: total,
        expected: `Σ credits = Σ metered export = ${exportWh} Wh, each credit a positive integer`,
      },
    );
  }
}
