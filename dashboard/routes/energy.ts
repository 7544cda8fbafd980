import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { assertId } from '../../core/ids.js';
import { intervalMs } from '../../core/interval.js';
import { invalid } from '../../core/errors.js';
import { energyHistory } from '../../ledger/interval-energy.js';
import { listMeters } from '../../ledger/participants.js';
import { scopeParticipant } from '../auth.js';
import { iso, parseRange, sendList } from '../http.js';
import { errors, OPTIONAL_AUTH } from '../schemas/error-body.js';
import { RangeQuery } from '../schemas/range-query.js';

export const BUCKETS = { raw: 0, '15m': 15 * 60_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
export type Bucket = keyof typeof BUCKETS;

const EnergyRow = Type.Object({
  start: Type.String({ description: 'bucket start, ISO 8601 UTC' }),
  meter: Type.Union([Type.String(), Type.Null()]),
  generationWh: Type.Integer(),
  consumptionWh: Type.Integer(),
  gridImportWh: Type.Integer(),
  gridExportWh: Type.Integer(),
  netGridWh: Type.Integer({ description: 'import − export' }),
  flagged: Type.Integer({ description: 'meter-intervals in the bucket whose energy is estimated or held' }),
});

/**
 * Interval energy history: generation (pv meters), consumption, import and
 * export at the grid meters, in buckets of raw (one interval), 15 min, 1 h or
 * 1 day, UTC-aligned. Without a token: the microgrid total only. A household:
 * its own meters. Operator/auditor: everything, per meter with ?meter=.
 */
export async function energyRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const minutes = deps.config.market.intervalMinutes;

  app.get(
    '/api/energy',
    {
      schema: {
        tags: ['energy'],
        summary: 'Energy history in buckets (raw, 15m, 1h, 1d)',
        security: OPTIONAL_AUTH,
        querystring: Type.Object(
          {
            ...RangeQuery,
            bucket: Type.Optional(Type.Union(Object.keys(BUCKETS).map((b) => Type.Literal(b)))),
            meter: Type.Optional(Type.String({ description: 'one meter id, or "each" for one row per meter' })),
            participant: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(EnergyRow), ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const p = req.principal;
      const range = parseRange(req.query, deps.clock);
      const bucket = (req.query.bucket ?? 'raw') as Bucket;
      const len = intervalMs(minutes);
      const bucketMs = BUCKETS[bucket] || len;
      if (bucketMs < len || bucketMs % len !== 0)
        throw invalid(
          'INVALID_INPUT',
          'bucket',
          bucket,
          `a bucket that is a whole number of ${minutes}-minute intervals: raw, 1h or 1d`,
        );
      if ((range.to - range.from) / bucketMs > 20_000)
        throw invalid(
          'INVALID_INPUT',
          'bucket',
          bucket,
          'a coarser bucket or a shorter range (at most 20,000 buckets)',
        );
      let meterIds: string[] | undefined;
      const askedParticipant =
        req.query.participant === undefined ? undefined : assertId(req.query.participant, 'participant');
      if (!p) {
        if (askedParticipant !== undefined || req.query.meter !== undefined)
          throw invalid(
            'UNAUTHORIZED',
            'authorization',
            undefined,
            "a bearer token to see one participant's or meter's energy",
          );
      } else {
        const pid = scopeParticipant(p, askedParticipant);
        if (pid !== undefined) meterIds = listMeters(deps.ledger, pid).map((m) => m.id);
      }
      const perMeter = req.query.meter !== undefined;
      if (perMeter && req.query.meter !== 'each') {
        const m = assertId(req.query.meter, 'meter');
        if (meterIds && !meterIds.includes(m)) throw invalid('FORBIDDEN', 'meter', m, 'one of your own meters');
        meterIds = [m];
      }
      const rows = energyHistory(deps.ledger, { ...range, bucketMs, perMeter, ...(meterIds ? { meterIds } : {}) }).map(
        (r) => ({
          start: iso(r.bucketStart)!,
          meter: r.meterId,
          generationWh: r.pvWh,
          consumptionWh: r.gridImportWh - r.gridExportWh + r.pvWh,
          gridImportWh: r.gridImportWh,
          gridExportWh: r.gridExportWh,
          netGridWh: r.gridImportWh - r.gridExportWh,
          flagged: r.flagged,
        }),
      );
      return sendList(
        req,
        reply,
        rows,
        ['start', 'meter', 'generationWh', 'consumptionWh', 'gridImportWh', 'gridExportWh', 'netGridWh', 'flagged'],
        `energy-${bucket}`,
      );
    },
  );
}
