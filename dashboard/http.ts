import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import { parseUtc } from '../core/interval.js';
import { MicrogridError, invalid } from '../core/errors.js';
import { toCsv } from './csv.js';

/** Schemas and helpers shared by the route files. */

export const ErrorBody = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
    value: Type.Optional(Type.Unknown()),
    expected: Type.Optional(Type.String()),
  },
  {
    $id: 'ErrorBody',
    description: 'Every 4xx/5xx body: a stable code, a message naming the field, value and what was expected.',
  },
);

/**
 * OpenAPI `security` of a route that also serves callers without a token (the
 * public aggregate view); a route without it needs a token (dashboard/guard.ts).
 */
export const OPTIONAL_AUTH: { bearer?: string[] }[] = [{}, { bearer: [] }];

export const errors = (...statuses: number[]): Record<number, typeof ErrorBody> =>
  Object.fromEntries(statuses.map((s) => [s, ErrorBody]));

export const Format = Type.Optional(
  Type.Union([Type.Literal('json'), Type.Literal('csv')], {
    description: 'csv returns text/csv with a header row; times in UTC',
  }),
);
export const IsoTime = (description: string) => Type.String({ description, examples: ['2026-11-21T19:30:00Z'] });
export const RangeQuery = {
  from: Type.Optional(IsoTime('range start, ISO 8601 UTC (inclusive)')),
  to: Type.Optional(IsoTime('range end, ISO 8601 UTC (exclusive)')),
  format: Format,
};

export const MAX_RANGE_MS = 400 * 86_400_000;

/** Parses ?from&to (ISO UTC), defaulting to the `defaultSpanMs` before now (plus one day ahead, for planned intervals). */
export function parseRange(
  q: { from?: string | undefined; to?: string | undefined },
  clock: Clock,
  defaultSpanMs = 86_400_000,
): { from: number; to: number } {
  const now = clock.now();
  const to = q.to === undefined ? now + 86_400_000 : parseUtc(q.to, 'to');
  const from = q.from === undefined ? now - defaultSpanMs : parseUtc(q.from, 'from');
  if (to <= from) throw invalid('INVALID_TIME', 'to', q.to, `a time after from (${new Date(from).toISOString()})`);
  if (to - from > MAX_RANGE_MS) throw invalid('INVALID_TIME', 'to', q.to, 'a range of at most 400 days');
  return { from, to };
}

export const iso = (t: number | null): string | null =>
  t === null ? null : new Date(t).toISOString().replace('.000Z', 'Z');

/**
 * Sends a list as JSON, or as CSV with `?format=csv` (the same rows, the
 * listed columns). For CSV the reply is sent here and returned itself, which
 * fastify takes as "already sent"; the cast keeps the route's typed result.
 */
export function sendList<T extends object>(
  req: FastifyRequest,
  reply: FastifyReply,
  rows: T[],
  columns: readonly (keyof T & string)[],
  name: string,
): T[] {
  const format = (req.query as { format?: string } | undefined)?.format;
  if (format === 'csv') {
    void reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}.csv"`)
      .send(toCsv(rows as unknown as Record<string, unknown>[], columns));
    return reply as unknown as T[];
  }
  return rows;
}

export function notFound(what: string, field: string, value: unknown): MicrogridError {
  return new MicrogridError('NOT_FOUND', `${what} not found`, { field, value, expected: `an existing ${what}` });
}
