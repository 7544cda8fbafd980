import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { MicrogridError } from '../../core/errors.js';
import { parseUtc } from '../../core/interval.js';
import { requireRole } from '../auth.js';
import { errors } from '../schemas/error-body.js';

/**
 * GET /api/audit/verify?from&to — the utility audit (the same five checks as
 * `mgx audit`: signatures and readings root, energy, clearing re-run and
 * trades root, credits on chain per recipient, statements), run against the
 * chain through its RPC. Auditor and operator only. The audit itself lives in
 * app/ and comes in through DashboardDeps.audit.
 */
export async function auditVerifyRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  app.get(
    '/api/audit/verify',
    {
      config: { roles: ['auditor', 'operator'] },
      schema: {
        tags: ['audit'],
        summary:
          'Audit intervals against the chain: pass/fail per check with the numbers and every discrepancy (auditor, operator)',
        querystring: Type.Object(
          {
            from: Type.String({ description: 'first interval start, ISO 8601 UTC (inclusive)' }),
            to: Type.String({ description: 'end, ISO 8601 UTC (exclusive); at most 31 days after from' }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({}, { additionalProperties: true, description: 'AuditReport (docs/audit.md)' }),
          ...errors(400, 401, 403, 503),
        },
      },
    },
    async (req) => {
      requireRole(req.principal, 'auditor', 'operator');
      const q = req.query as { from: string; to: string };
      const from = parseUtc(q.from, 'from');
      const to = parseUtc(q.to, 'to');
      if (to <= from || to - from > 31 * 86_400_000)
        throw new MicrogridError('AUDIT_INPUT', 'bad audit range', {
          field: 'to',
          value: q.to,
          expected: `after from (${q.from}) and at most 31 days later`,
        });
      if (!deps.audit)
        throw new MicrogridError(
          'CHAIN_UNAVAILABLE',
          'the audit needs the chain, which this server was started without',
          { field: 'chain', value: null, expected: 'the app started with a chain (mgx start)' },
        );
      return deps.audit({ from, to });
    },
  );
}
