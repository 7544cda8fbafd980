import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import type { ReadingEvent } from '../../core/events.js';
import { MicrogridError } from '../../core/errors.js';
import { insertReadings, meterGateways } from '../../ledger/readings.js';
import { recoverReadingSigner } from '../../core/reading-typed-data.js';
import { errors } from '../http.js';

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

/** The one answer to any reading that is not provably its meter's: which meters exist is not told. */
const notSigned = (field: string, cause?: unknown): MicrogridError =>
  new MicrogridError('READING_SIGNATURE', 'reading is not signed by the gateway registered for its meter', { field: `${field}.signature`, expected: 'an EIP-712 signature of the Reading typed data by the gateway registered for the meter', ...(cause === undefined ? {} : { cause }) });

/** Thousandths, as the signature holds voltage and frequency (core/reading-typed-data.ts). */
const signedMilli = (v: number | null): number | null => (v === null ? null : Math.max(0, Math.round(v * 1000)) / 1000);

/**
 * A reading as the signature covers it and nothing more: `reasons` is not
 * signed, so it is dropped (a gateway could put any text there); time and
 * the fractional values are rewritten to the precision that was signed.
 */
function signedPart(r: typeof SignedReading.static): ReadingEvent & { gateway: string; signature: string } {
  return {
    type: 'reading',
    meterId: r.meterId,
    ts: new Date(Date.parse(r.ts)).toISOString(),
    powerW: r.powerW,
    importWh: r.importWh,
    exportWh: r.exportWh,
    voltageV: signedMilli(r.voltageV),
    frequencyHz: signedMilli(r.frequencyHz),
    quality: r.quality,
    gateway: r.gateway,
    signature: r.signature,
  };
}

/**
 * `POST /api/readings`: signed readings pushed by a remote `mgx bridge`.
 * Each reading's EIP-712 signature must recover to the gateway registered for
 * its meter (`meters.gateway`); the batch is taken whole or refused whole
 * (naming the first bad reading), so the bridge's spool keeps its order.
 * An unknown meter, a meter without a gateway and a bad signature all get
 * the same answer (and the same work: the signature is always recovered).
 * A reading already stored (same meter and ts) is counted as a duplicate and
 * not announced again; pushes are limited per address (guard.ts) and per
 * gateway (`server.rateLimit.readingsPerMinute`).
 */
export async function readingRoutes(fastify: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const gatewayOf = new WeakMap<object, string>();
  const perGateway = fastify.createRateLimit({ max: deps.config.server.rateLimit.readingsPerMinute, timeWindow: 60_000, keyGenerator: (req) => `gw:${gatewayOf.get(req) ?? ''}` });
  app.post(
    '/api/readings',
    {
      config: { writeBudget: 'readings' },
      schema: {
        tags: ['readings'],
        summary: 'Receive signed meter readings from a remote bridge',
        // No token: each reading carries its gateway's signature instead.
        security: [],
        body: Body,
        response: { 200: Type.Object({ accepted: Type.Integer(), duplicates: Type.Integer() }), ...errors(400, 401, 413, 429) },
      },
    },
    async (req) => {
      const readings = req.body.readings.map(signedPart);
      const gateways = meterGateways(deps.ledger, readings.map((r) => r.meterId));
      const signers = new Set<string>();
      for (const [i, r] of readings.entries()) {
        const field = `body.readings[${i}]`;
        let signer: string;
        try {
          signer = (await recoverReadingSigner(r)).toLowerCase();
        } catch (cause) {
          throw notSigned(field, cause);
        }
        const registered = gateways.get(r.meterId);
        if (!registered || signer !== registered || signer !== r.gateway.toLowerCase()) throw notSigned(field);
        signers.add(signer);
      }
      for (const g of signers) {
        gatewayOf.set(req, g);
        const r = await perGateway(req);
        if (r.isAllowed === false && r.isExceeded) {
          throw new MicrogridError('RATE_LIMITED', `too many readings requests for gateway ${g}: at most ${r.max} per minute; retry in ${Math.max(1, Math.ceil(r.ttl / 1000))} s`, { status: 429 });
        }
      }
      const { inserted, duplicates, fresh } = insertReadings(deps.ledger, readings, deps.clock.now());
      // Only what was new to the ledger is announced: a replay moves nothing (the hub also ignores anything older than the live value).
      if (deps.bus) for (const r of fresh) deps.bus.emit(r);
      return { accepted: inserted, duplicates };
    },
  );
}
