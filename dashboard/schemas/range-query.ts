import { Type } from '@sinclair/typebox';

/** The query of the list routes: a time range and the answer's format (parsed by `parseRange` in dashboard/http.ts). */

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
