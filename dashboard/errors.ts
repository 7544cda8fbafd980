import type { FastifyError, FastifyReply, FastifyRequest, FastifyInstance } from 'fastify';
import { MicrogridError } from '../core/errors.js';
import { ERROR_CODES } from '../core/error-codes.js';

interface AjvIssue {
  instancePath?: string;
  message?: string;
  params?: { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
}

/** `body` + `/orders/2/price` + missing `x` → `body.orders[2].price.x` */
function fieldOf(context: string | undefined, issue: AjvIssue): string {
  const path = (issue.instancePath ?? '')
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`))
    .join('');
  const leaf = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  return `${context ?? 'request'}${path}${leaf ? `.${leaf}` : ''}`;
}

function valueAt(req: FastifyRequest, context: string | undefined, issue: AjvIssue): unknown {
  let v: unknown = context === 'body' ? req.body : context === 'querystring' ? req.query : context === 'params' ? req.params : context === 'headers' ? undefined : undefined;
  for (const seg of (issue.instancePath ?? '').split('/').slice(1)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  if (issue.params?.additionalProperty !== undefined && v && typeof v === 'object') return (v as Record<string, unknown>)[issue.params.additionalProperty];
  return issue.params?.missingProperty !== undefined ? undefined : v;
}

/**
 * Every error leaves as JSON with a stable code. Bad input of any kind
 * (schema, JSON syntax, size, media type, rate) is a 4xx naming the field;
 * only a genuine fault is a 500, and its cause goes to the log, not the client.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | MicrogridError | Error, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof MicrogridError) {
      if (err.status >= 500) app.log.error({ err }, 'request failed');
      return reply.status(err.status).send(err.toJSON());
    }
    const e = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string; statusCode?: number };
    if (e.validation && e.validation.length) {
      const issue = e.validation[0]!;
      const field = fieldOf(e.validationContext, issue);
      const allowed = issue.params?.allowedValues ? `one of ${issue.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}` : (issue.message ?? 'a valid value');
      const problem = issue.params?.additionalProperty !== undefined ? 'is not a known field' : issue.params?.missingProperty !== undefined ? 'is required' : 'invalid value';
      const me = new MicrogridError('INVALID_INPUT', problem, { field, value: valueAt(req, e.validationContext, issue), expected: issue.params?.additionalProperty !== undefined ? 'no other fields' : allowed });
      return reply.status(400).send(me.toJSON());
    }
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send(new MicrogridError('BODY_TOO_LARGE', 'the request body is too large', { field: 'body', expected: `at most ${app.initialConfig.bodyLimit} bytes` }).toJSON());
    }
    if (e.statusCode === 429) {
      return reply.status(429).send({ code: 'RATE_LIMITED', message: e.message || 'too many write requests; wait and retry' });
    }
    const status = e.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // JSON syntax errors, unsupported media types, empty bodies: client faults fastify already classified.
      const code = e.code && e.code in ERROR_CODES ? e.code : 'INVALID_INPUT';
      return reply.status(status).send({ code, message: e.message, field: 'body' });
    }
    app.log.error({ err }, 'unhandled error in request');
    return reply.status(500).send({ code: 'INTERNAL', message: 'internal error; the server log has the cause' });
  });

  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(new MicrogridError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`, { field: 'url', value: req.url.split('?')[0], expected: 'a route listed at /api/docs' }).toJSON()),
  );
}
