import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import type { Config } from '../../core/config/schema.js';
import { parseIntervalStart } from '../../core/interval.js';
import { assertId } from '../../core/ids.js';
import { MicrogridError } from '../../core/errors.js';
import { listMeterHolds, type MeterHold } from '../../ledger/meter-data.js';
import { requireRole, scopeParticipant } from '../auth.js';
import { iso } from '../http.js';
import { errors } from '../schemas/error-body.js';
import { Nullable as N } from '../schemas/nullable.js';

const Reason = Type.Object({ code: Type.String(), message: Type.String() });

const HoldOut = Type.Object({
  interval: Type.String(),
  meterId: Type.String(),
  participant: Type.String(),
  importWh: Type.Integer({ description: 'what the trusted counter gave (what accept makes actual)' }),
  exportWh: Type.Integer(),
  reasons: Type.Array(Reason),
  heldAt: Type.String(),
  deadline: Type.String({
    description: 'heldAt + meterData.holdWindowHours (market time): undecided by then, the system estimates it',
  }),
  decision: N(
    Type.Union([Type.Literal('accept'), Type.Literal('replace'), Type.Literal('reject'), Type.Literal('estimate')]),
  ),
  decidedImportWh: N(Type.Integer()),
  decidedExportWh: N(Type.Integer()),
  decidedStatus: N(Type.String()),
  method: N(Type.String()),
  decidedBy: N(Type.String()),
  decisionReason: N(Type.String()),
  decidedAt: N(Type.String()),
  appliedIn: N(Type.String({ description: 'the interval whose statements carry the adjustment' })),
  creditedIn: N(Type.Integer({ description: 'unix seconds of the commitment that credits accepted export' })),
});

const holdOut = (h: MeterHold, windowMs: number) => ({
  interval: h.interval,
  meterId: h.meterId,
  participant: h.participantId,
  importWh: h.importWh,
  exportWh: h.exportWh,
  reasons: h.reasons,
  heldAt: iso(h.heldAt)!,
  deadline: iso(h.heldAt + windowMs)!,
  decision: h.decision,
  decidedImportWh: h.decidedImportWh,
  decidedExportWh: h.decidedExportWh,
  decidedStatus: h.decidedStatus,
  method: h.method,
  decidedBy: h.decidedBy,
  decisionReason: h.decisionReason,
  decidedAt: iso(h.decidedAt),
  appliedIn: iso(h.appliedIn),
  creditedIn: h.creditedIn === null ? null : Math.floor(h.creditedIn / 1000),
});

const DecisionBody = Type.Object(
  {
    interval: Type.String({ description: 'the held interval start, ISO 8601 UTC' }),
    meterId: Type.String(),
    decision: Type.Union([Type.Literal('accept'), Type.Literal('replace'), Type.Literal('reject')]),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    importWh: Type.Optional(Type.Integer({ minimum: 0 })),
    exportWh: Type.Optional(Type.Integer({ minimum: 0 })),
    estimate: Type.Optional(
      Type.Boolean({ description: 'replace with the time-apportioned estimate on the readings known now' }),
    ),
  },
  { additionalProperties: false },
);

/**
 * Held meter data (settlement/meter-data/): the operator's queue. GET lists
 * held meter-intervals with their reasons (pending first by default; ?all=true
 * with decisions); operator and auditor see all, a household its own. POST
 * records the operator's decision (accept, replace, reject), once, with who
 * and why; it takes effect as an adjustment on the next statement.
 */
export async function meterDataRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const minutes = deps.config.market.intervalMinutes;
  // The same window app/cycle-steps.ts estimates expired holds with.
  const windowMs = ((deps.config.meterData as Config['meterData'] | undefined)?.holdWindowHours ?? 48) * 3_600_000;

  app.get(
    '/api/meter-data/holds',
    {
      schema: {
        tags: ['meter data'],
        summary: 'Held meter-intervals with their reasons and decisions',
        querystring: Type.Object(
          {
            all: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
            participant: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(HoldOut), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const p = requireRole(req.principal, 'operator', 'auditor', 'household');
      const pid = scopeParticipant(
        p,
        req.query.participant === undefined ? undefined : assertId(req.query.participant, 'participant'),
      );
      return listMeterHolds(deps.ledger, {
        pending: req.query.all !== 'true',
        ...(pid !== undefined ? { participantId: pid } : {}),
      }).map((h) => holdOut(h, windowMs));
    },
  );

  app.post(
    '/api/meter-data/holds/decision',
    {
      config: { rateLimit: fastify.mgx.writeLimit },
      schema: {
        tags: ['meter data'],
        summary: 'Accept, replace or reject a held meter-interval',
        body: DecisionBody,
        response: { 200: HoldOut, ...errors(400, 401, 403, 404, 409, 503) },
      },
    },
    async (req) => {
      const p = requireRole(req.principal, 'operator');
      if (!deps.decideMeterHold)
        throw new MicrogridError('INTERNAL', 'meter data decisions are not wired in this server', {
          field: 'server',
          expected: 'the running app (mgx start)',
        });
      const b = req.body;
      if (b.decision === 'replace' && b.estimate !== true && (b.importWh === undefined || b.exportWh === undefined)) {
        throw new MicrogridError('INVALID_INPUT', 'replace needs importWh and exportWh, or estimate: true', {
          field: 'importWh',
          value: b.importWh,
          expected: 'both importWh and exportWh (Wh), or estimate: true',
        });
      }
      const h = deps.decideMeterHold({
        intervalStart: parseIntervalStart(b.interval, minutes, 'interval'),
        meterId: assertId(b.meterId, 'meterId'),
        decision: b.decision,
        reason: b.reason,
        by: `${p.role}:${p.key}`,
        ...(b.importWh !== undefined ? { importWh: b.importWh } : {}),
        ...(b.exportWh !== undefined ? { exportWh: b.exportWh } : {}),
        ...(b.estimate !== undefined ? { estimate: b.estimate } : {}),
      });
      return holdOut(h, windowMs);
    },
  );
}
