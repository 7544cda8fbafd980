import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import { parseUtc } from '../core/interval.js';
import { MicrogridError, invalid } from '../core/errors.js';
import { toCsv } from './csv.js';

/** Helpers shared by the route files (their shared schemas are in dashboard/schemas/). */

export const MAX_RANGE_MS = 400 * 86_400_000;

/**
 * Parses ?from&to (ISO UTC), defaulting to the `defaultSpanMs` before now (plus one day ahead, for planned intervals).
 */
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
