import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { assertId } from '../../core/ids.js';
import { Dec } from '../../core/units.js';
import { listStatements } from '../../ledger/queries.js';
import { listParticipants } from '../../ledger/participants.js';
import { requireAuth, scopeParticipant } from '../auth.js';
import { errors, iso, notFound } from '../http.js';

const Money = (description: string) => Type.String({ description });
const Today = Type.Object({
  participant: Type.String(),
  day: Type.String({ description: 'the market day (UTC) so far: its start, ISO 8601' }),
  to: Type.String({ description: 'market now' }),
  intervals: Type.Integer({ description: 'settled intervals of the day with a statement for this participant' }),
  currency: Type.String(),
  soldWh: Type.Integer({ description: 'sold to neighbours (delivered)' }),
  boughtWh: Type.Integer({ description: 'bought from neighbours (delivered)' }),
  earned: Money('received from neighbours for energy sold'),
  paid: Money('paid to neighbours for energy bought, with the grid fees'),
  feedInTariff: Type.String(),
  retailTariff: Type.String(),
  feedInValue: Money('what the grid would have paid for the energy sold: Σ per interval of soldWh × feedInTariff / 1000, rounded as statements are'),
  retailCost: Money('what the grid would have charged for the energy bought: Σ per interval of boughtWh × retailTariff / 1000, rounded as statements are'),
  gainSelling: Money('earned − feedInValue'),
  gainBuying: Money('retailCost − paid'),
  gain: Money('gainSelling + gainBuying: what trading with neighbours gained over the tariffs'),
});

/**
 * GET /api/participants/:id/today — a household's headline: what it sold and
 * bought locally today (market day, UTC), what that earned and cost, and the
 * gain against selling to the grid at the feed-in tariff and buying from it at
 * the retail tariff. Summed from the day's statements with decimal.js.
 */
export async function todayRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { market, microgrid } = deps.config;

  app.get(
    '/api/participants/:id/today',
    { schema: { tags: ['participants'], summary: 'Today so far: energy traded with neighbours, money, and the gain over the feed-in and retail tariffs (the household itself, operator, auditor)', params: Type.Object({ id: Type.String() }), response: { 200: Today, ...errors(400, 401, 403, 404) } } },
    async (req) => {
      const id = assertId(req.params.id, 'id');
      scopeParticipant(requireAuth(req.principal), id, 'id');
      if (!listParticipants(deps.ledger).some((p) => p.id === id)) throw notFound('participant', 'id', id);
      const now = deps.clock.now();
      const day = now - (now % 86_400_000);
      const rows = listStatements(deps.ledger, { from: day, to: now + 1, participantId: id });
      const sum = (f: (r: (typeof rows)[number]) => string) => rows.reduce((a, r) => a.add(f(r)), new Dec(0));
      const soldWh = rows.reduce((a, r) => a + r.soldWh, 0);
      const boughtWh = rows.reduce((a, r) => a + r.boughtWh, 0);
      const earned = sum((r) => r.received);
      const paid = sum((r) => r.paid).add(sum((r) => r.fees));
      // What the grid would have paid and charged, per interval rounded to the minor unit as a
      // statement's grid amount is, then summed: the comparison uses the statements' own rounding, and
      // the gains are differences of the figures shown, so the line the page shows adds up to the cent.
      const units = microgrid.currencyMinorUnits;
      const atTariff = (wh: (r: (typeof rows)[number]) => number, tariff: string) => rows.reduce((a, r) => a.add(new Dec(wh(r)).mul(tariff).div(1000).toDecimalPlaces(units)), new Dec(0));
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
    },
  );
}
