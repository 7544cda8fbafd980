import { Type } from '@fastify/type-provider-typebox';
import type { Config } from '../../core/config/schema.js';
import { parseIntervalStart } from '../../core/interval.js';

/** The `:start` path parameter of interval routes. */
export const StartParam = Type.Object({
  start: Type.String({ description: 'interval start, ISO 8601 UTC or unix seconds' }),
});

/** `:start` as ISO UTC or unix seconds (digits), aligned to the interval length. */
export function parseStartParam(s: string, minutes: Config['market']['intervalMinutes']): number {
  return parseIntervalStart(/^\d{1,12}$/.test(s) ? Number(s) : s, minutes, 'start');
}
