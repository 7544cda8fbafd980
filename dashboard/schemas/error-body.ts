import { Type } from '@sinclair/typebox';

/** The body of every 4xx/5xx answer, and the OpenAPI security of routes that also serve callers without a token. */

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

/** A route's error responses, all with the ErrorBody shape: `errors(400, 401, 404)`. */
export const errors = (...statuses: number[]): Record<number, typeof ErrorBody> =>
  Object.fromEntries(statuses.map((s) => [s, ErrorBody]));

/**
 * OpenAPI `security` of a route that also serves callers without a token (the
 * public aggregate view); a route without it needs a token (dashboard/guard.ts).
 */
export const OPTIONAL_AUTH: { bearer?: string[] }[] = [{}, { bearer: [] }];
