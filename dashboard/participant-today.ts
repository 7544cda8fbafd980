import type { Config } from '../core/config/schema.js';
import { Dec } from '../core/units.js';
import type { Ledger } from '../ledger/ledger.js';
import { listStatementSummaries } from '../ledger/statements.js';
import { iso } from './http.js';

/** A household's day so far, as GET /api/participants/:id/today serves it (money as decimal strings in minor units). */
export interface ParticipantToday {
  participant: string;
  day: string;
  to: string;
  intervals: number;
  currency: string;
  soldWh: number;
  boughtWh: number;
  earned: string;
  paid: string;
  feedInTariff: string;
  retailTariff: string;
  feedInValue: string;
  retailCost: string;
  gainSelling: string;
  gainBuying: string;
  gain: string;
}

/**
 * What a participant sold and bought locally today (market day, UTC, up to
 * `now`), what that earned and cost, and the gain against the grid's tariffs.
 * Summed from the day's statements with decimal.js. One function for the HTTP
 * route and the MQTT state out, so both always carry the same numbers.
 */
export function participantToday(
  ledger: Ledger,
  config: Pick<Config, 'market' | 'microgrid'>,
  id: string,
  now: number,
): ParticipantToday {
  const { market, microgrid } = config;
  const day = now - (now % 86_400_000);
  const rows = listStatementSummaries(ledger, { from: day, to: now + 1, participantId: id });
  const sum = (f: (r: (typeof rows)[number]) => string) => rows.reduce((a, r) => a.add(f(r)), new Dec(0));
  const soldWh = rows.reduce((a, r) => a + r.soldWh, 0);
  const boughtWh = rows.reduce((a, r) => a + r.boughtWh, 0);
  const earned = sum((r) => r.received);
  const paid = sum((r) => r.paid).add(sum((r) => r.fees));
  // What the grid would have paid and charged, per interval rounded to the minor unit as a
  // statement's grid amount is, then summed: the comparison uses the statements' own rounding, and
  // the gains are differences of the figures shown, so the line the page shows adds up to the cent.
  const units = microgrid.currencyMinorUnits;
  const atTariff = (wh: (r: (typeof rows)[number]) => number, tariff: string) =>
    rows.reduce((a, r) => a.add(new Dec(wh(r)).mul(tariff).div(1000).toDecimalPlaces(units)), new Dec(0));
  const feedInValue = atTariff((r) => r.soldWh, market.feedInTariff);
  const retailCost = atTariff((r) => r.boughtWh, market.retailTariff);
  const gainSelling = earned.sub(feedInValue);
  const gainBuying = retailCost.sub(paid);
  const money = (d: Dec) => d.toFixed(units);
  return {
    participant: id,
    day: iso(day)!,
    to: iso(now)!,
    intervals: rows.length,
    currency: microgrid.currency,
    soldWh,
    boughtWh,
    earned: money(earned),
    paid: money(paid),
    feedInTariff: market.feedInTariff,
    retailTariff: market.retailTariff,
    feedInValue: money(feedInValue),
    retailCost: money(retailCost),
    gainSelling: money(gainSelling),
    gainBuying: money(gainBuying),
    gain: money(gainSelling.add(gainBuying)),
  };
}
