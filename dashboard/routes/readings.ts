import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import type { ReadingEvent } from '../../core/events.js';
import { MicrogridError } from '../../core/errors.js';
import { insertReadings, meterGateways } from '../../ledger/readings.js';
import { recoverReadingSigner } from '../../core/reading-typed-data.js';

const Num = Type.Union([Type.Number(), Type.Null()]);
const Wh = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);

const SignedReading = Type.Object(
  {
    type: Type.Literal('reading'),
    meterId: Type.String({ minLength: 1, maxLength: 64 }),
    ts: Type.String({ format: 'date-time', description: 'ISO 8601 UTC, millisecond precision' }),
    powerW: Type.Union([Type.Integer(), Type.Null()]),
    importWh: Wh,
    exportWh: Wh,
    voltageV: Num,
    frequencyHz: Num,
    quality: Type.Union([Type.Literal('good'), Type.Literal('suspect'), Type.Literal('missing')]),
    reasons: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 16 })),
    gateway: Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' }),
    signature: Type.String({ pattern: '^0x[0-9a-fA-F]{130}$' }),
  },
  { additionalProperties: false },
);

const Body = Type.Object({ readings: Type.Array(SignedReading, { minItems: 1, maxItems: 500 }) }, { additionalProperties: false });

/**
 * `POST /api/readings`: signed readings pushed by a remote `mgx bridge`.
 * Each reading's EIP-712 signature must recover to the gateway registered for
 * its meter (`meters.gateway`); the batch is taken whole or refused whole
 * (naming the first bad reading), so the bridge's spool keeps its order.
 * A reading already stored (same meter and ts) is counted as a duplicate.
 */
export async function readingRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/readings',
    {
      schema: {
        tags: ['readings'],
        summary: 'Receive signed meter readings from a remote bridge',
        // No token: each reading carries its gateway's signature instead.
        security: [],
        body: Body,
        response: { 200: Type.Object({ accepted: Type.Integer(), duplicates: Type.Integer() }) },
      },
    },
    async (req) => {
      const readings = req.body.readings as ReadingEvent[] & { gateway: string; signature: string }[];
      const gateways = meterGateways(deps.ledger, readings.map((r) => r.meterId));
      for (const [i, r] of readings.entries()) {
        const field = `body.readings[${i}]`;
        if (!gateways.has(r.meterId)) throw new MicrogridError('NOT_FOUND', 'unknown meter', { field: `${field}.meterId`, value: r.meterId, expected: 'a meter configured under participants[].meters' });
        const registered = gateways.get(r.meterId);
        if (!registered) throw new MicrogridError('READING_SIGNATURE', 'no gateway is registered for this meter', { field: `${field}.meterId`, value: r.meterId, expected: 'meters.gateway set to the address `mgx bridge` prints' });
        let signer: string;
        try {
          signer = (await recoverReadingSigner(r as ReadingEvent & { signature: string })).toLowerCase();
        } catch (cause) {
          throw new MicrogridError('READING_SIGNATURE', 'signature does not verify', { field: `${field}.signature`, value: r.signature, expected: 'an EIP-712 signature of the Reading typed data', cause });
        }
        if (signer !== registered || signer !== (r.gateway ?? '').toLowerCase()) {
          throw new MicrogridError('READING_SIGNATURE', 'reading is not signed by the gateway registered for its meter', { field: `${field}.signature`, value: signer, expected: `a signature by ${registered}` });
        }
      }
      const { inserted, duplicates } = insertReadings(deps.ledger, readings, deps.clock.now());
      if (deps.bus) for (const r of readings) deps.bus.emit(r);
      return { accepted: inserted, duplicates };
    },
  );
}
