import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { assertId } from '../../core/ids.js';
import { listParticipants } from '../../ledger/participants.js';
import { requireAuth, scopeParticipant } from '../auth.js';
import { notFound } from '../http.js';
import { errors } from '../schemas/error-body.js';
import { participantToday } from '../participant-today.js';

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
  feedInValue: Money(
    'what the grid would have paid for the energy sold: Σ per interval of soldWh × feedInTariff / 1000, rounded as statements are',
  ),
  retailCost: Money(
    'what the grid would have charged for the energy bought: Σ per interval of boughtWh × retailTariff / 1000, rounded as statements are',
  ),
  gainSelling: Money('earned − feedInValue'),
  gainBuying: Money('retailCost − paid'),
  gain: Money('gainSelling + gainBuying: what trading with neighbours gained over the tariffs'),
});

/**
 * GET /api/participants/:id/today — a household's headline: what it sold and
 * bought locally today (market day, UTC), what that earned and cost, and the
 * gain against selling to the grid at the feed-in tariff and buying from it at
 * the retail tariff (dashboard/participant-today.ts computes it).
 */
export async function todayRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/participants/:id/today',
    {
      schema: {
        tags: ['participants'],
        summary:
          'Today so far: energy traded with neighbours, money, and the gain over the feed-in and retail tariffs (the household itself, operator, auditor)',
        params: Type.Object({ id: Type.String() }),
        response: { 200: Today, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const id = assertId(req.params.id, 'id');
      scopeParticipant(requireAuth(req.principal), id, 'id');
      if (!listParticipants(deps.ledger).some((p) => p.id === id)) throw notFound('participant', 'id', id);
      return participantToday(deps.ledger, deps.config, id, deps.clock.now());
    },
  );
}
