import { FormatRegistry, Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Clock } from '../core/clock.js';
import type { EventBus, ReadingEvent } from '../core/events.js';
import { MicrogridError } from '../core/errors.js';
import { recoverReadingSigner } from '../core/reading-typed-data.js';
import type { Ledger } from '../ledger/ledger.js';
import { insertReadings, meterGateways } from '../ledger/readings.js';

/**
 * The one way a signed reading from a remote gateway enters the ledger, for
 * both `POST /api/readings` and the MQTT subscriber (app/mqtt/readings-in.ts):
 * the same schema, the same signature check against `meters.gateway`, the
 * same per-gateway limit, the same duplicate rule, the same errors.
 */

const Num = Type.Union([Type.Number(), Type.Null()]);
const Wh = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);

export const SignedReading = Type.Object(
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
export type SignedReading = Static<typeof SignedReading>;

/** At most this many readings in one request or one MQTT message. */
export const MAX_READINGS_PER_BATCH = 500;

export const ReadingsBody = Type.Object(
  { readings: Type.Array(SignedReading, { minItems: 1, maxItems: MAX_READINGS_PER_BATCH }) },
  { additionalProperties: false },
);
export type ReadingsBody = Static<typeof ReadingsBody>;

// What fastify's ajv calls date-time (RFC 3339 with a zone); TypeBox's checker knows no formats of its own.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has('date-time'))
  FormatRegistry.Set('date-time', (v) => DATE_TIME.test(v) && Number.isFinite(Date.parse(v)));
const checkBody = TypeCompiler.Compile(ReadingsBody);
const checkOne = TypeCompiler.Compile(SignedReading);

/**
 * A parsed message body (`{ readings: [...] }` or one signed reading) checked
 * against the schema; throws INVALID_INPUT naming the first bad field.
 * The HTTP route has fastify check the same schema before it calls `takeReadings`.
 */
export function parseReadingsBody(body: unknown, where = 'body'): SignedReading[] {
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'type' in body) {
    if (checkOne.Check(body)) return [body];
    throw schemaError(checkOne.Errors(body).First(), where);
  }
  if (checkBody.Check(body)) return body.readings;
  throw schemaError(checkBody.Errors(body).First(), where);
}

function schemaError(e: { path: string; message: string; value: unknown } | undefined, where: string): MicrogridError {
  const field = `${where}${(e?.path ?? '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.')}`;
  const shown = typeof e?.value === 'string' ? e.value.slice(0, 80) : e?.value;
  return new MicrogridError('INVALID_INPUT', `${field}: ${e?.message ?? 'invalid'}`, {
    field,
    value: shown,
    expected: 'a signed reading as POST /api/readings takes it',
  });
}

/** The one answer to any reading that is not provably its meter's: which meters exist is not told. */
export const notSigned = (field: string, cause?: unknown): MicrogridError =>
  new MicrogridError('READING_SIGNATURE', 'reading is not signed by the gateway registered for its meter', {
    field: `${field}.signature`,
    expected: 'an EIP-712 signature of the Reading typed data by the gateway registered for the meter',
    ...(cause === undefined ? {} : { cause }),
  });

/** Thousandths, as the signature holds voltage and frequency (core/reading-typed-data.ts). */
const signedMilli = (v: number | null): number | null => (v === null ? null : Math.max(0, Math.round(v * 1000)) / 1000);

/**
 * A reading as the signature covers it and nothing more: `reasons` is not
 * signed, so it is dropped (a gateway could put any text there); time and
 * the fractional values are rewritten to the precision that was signed.
 */
export function signedPart(r: SignedReading): ReadingEvent & { gateway: string; signature: string } {
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

export interface ReadingsIntakeDeps {
  ledger: Ledger;
  clock: Clock;
  bus?: EventBus | undefined;
}

export interface TakeReadingsOptions {
  /** The field name of reading i in errors, e.g. `body.readings[3]`. */
  fieldOf: (i: number) => string;
  /** Counts one write for a gateway whose signatures all checked; returns the error when it is over its limit. */
  limit: (gateway: string) => Promise<MicrogridError | undefined> | MicrogridError | undefined;
}

export interface TakeReadingsResult {
  accepted: number;
  duplicates: number;
}

/**
 * Takes a batch of signed readings whole or refuses it whole (naming the
 * first bad reading), so a bridge's spool keeps its order. Each reading's
 * EIP-712 signature must recover to the gateway registered for its meter
 * (`meters.gateway`). An unknown meter, a meter without a gateway and a bad
 * signature all get the same answer (and the same work: the signature is
 * always recovered). A reading already stored (same meter and ts) is a
 * duplicate and is not announced on the bus again.
 */
export async function takeReadings(
  deps: ReadingsIntakeDeps,
  batch: readonly SignedReading[],
  opts: TakeReadingsOptions,
): Promise<TakeReadingsResult> {
  const readings = batch.map(signedPart);
  const gateways = meterGateways(
    deps.ledger,
    readings.map((r) => r.meterId),
  );
  const signers = new Set<string>();
  for (const [i, r] of readings.entries()) {
    const field = opts.fieldOf(i);
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
    const over = await opts.limit(g);
    if (over) throw over;
  }
  const { inserted, duplicates, fresh } = insertReadings(deps.ledger, readings, deps.clock.now());
  // Only what was new to the ledger is announced: a replay moves nothing (the hub also ignores anything older than the
  // live value).
  if (deps.bus) for (const r of fresh) deps.bus.emit(r);
  return { accepted: inserted, duplicates };
}

/** The per-gateway limit's error, the same words over HTTP and MQTT. */
export const gatewayRateLimited = (gateway: string, max: number, retryMs: number): MicrogridError =>
  new MicrogridError(
    'RATE_LIMITED',
    `too many readings requests for gateway ${gateway}: at most ${max} per minute; retry in ${Math.max(1, Math.ceil(retryMs / 1000))} s`,
  );
