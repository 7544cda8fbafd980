import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyInstance } from 'fastify';
import { MicrogridError } from '../core/errors.js';
import { ERROR_CODES, type ErrorCode } from '../core/error-codes.js';
import { httpStatus } from './http-status.js';
import type { TokenTable } from './auth.js';

interface AjvIssue {
  instancePath?: string;
  message?: string;
  params?: { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
}

/** JSON bodies nested deeper than this are refused before they are parsed: no route takes more than a few levels. */
export const MAX_JSON_DEPTH = 32;

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
  // A field the schema does not know is not echoed: it is where a misplaced secret (?token=…) lands.
  if (issue.params?.additionalProperty !== undefined || issue.params?.missingProperty !== undefined) return undefined;
  let v: unknown =
    context === 'body'
      ? req.body
      : context === 'querystring'
        ? req.query
        : context === 'params'
          ? req.params
          : undefined;
  for (const seg of (issue.instancePath ?? '').split('/').slice(1)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

const SECRET_FIELD = /token|ticket|secret|authorization|password|key/i;

/**
 * What of a refused value goes back to the client: scalars only (a nested
 * array of 5,000 levels is described, never walked), strings cut to 80
 * characters, and nothing that is, or is named like, a secret.
 */
export function echoValue(value: unknown, field: string | undefined, tokens: TokenTable | undefined): unknown {
  if (field !== undefined && SECRET_FIELD.test(field)) return value === undefined ? undefined : '(hidden)';
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    if (tokens && value.length >= 16 && value.length <= 512 && tokens.lookup(value)) return '(hidden)';
    return value.length > 80 ? `${value.slice(0, 77)}...` : value;
  }
  if (Array.isArray(value)) return `(an array of ${value.length})`;
  if (typeof value === 'object') return '(an object)';
  return undefined;
}

function send(reply: FastifyReply, status: number, e: MicrogridError, tokens?: TokenTable): FastifyReply {
  const body = e.toJSON();
  const v = echoValue(e.value, e.field, tokens);
  if (v === undefined) delete body.value;
  else body.value = v;
  // The message repeats the value ("got …"): rebuilt from the echoed one, so it never carries more.
  if (e.field !== undefined)
    body.message = body.message.replace(
      /; got .*?(; expected |$)/s,
      v === undefined ? '$1' : `; got ${JSON.stringify(v)}$1`,
    );
  return reply.status(status).send(body);
}

const clientFault = (code: ErrorCode, message: string, field: string, expected?: string): MicrogridError =>
  new MicrogridError(code, message, { field, ...(expected === undefined ? {} : { expected }) });

/**
 * Every error leaves as JSON with a stable code. Bad input of any kind
 * (schema, JSON syntax, size, media type, rate) is a 4xx naming the field;
 * only a genuine fault is a 500, and its cause goes to the log, not the client.
 */
export function installErrorHandler(app: FastifyInstance, tokens?: TokenTable): void {
  app.setErrorHandler((err: FastifyError | MicrogridError | Error, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof MicrogridError) {
      const status = httpStatus(err.code);
      if (status >= 500) app.log.error({ err }, 'request failed');
      return send(reply, status, err, tokens);
    }
    const e = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string; statusCode?: number };
    if (e.validation && e.validation.length) {
      const issue = e.validation[0]!;
      const field = fieldOf(e.validationContext, issue);
      const allowed = issue.params?.allowedValues
        ? `one of ${issue.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
        : (issue.message ?? 'a valid value');
      const problem =
        issue.params?.additionalProperty !== undefined
          ? 'is not a known field'
          : issue.params?.missingProperty !== undefined
            ? 'is required'
            : 'invalid value';
      const value = valueAt(req, e.validationContext, issue);
      const me = new MicrogridError('INVALID_INPUT', problem, {
        field,
        ...(value === undefined ? {} : { value: echoValue(value, field, tokens) }),
        expected: issue.params?.additionalProperty !== undefined ? 'no other fields' : allowed,
      });
      return send(reply, 400, me, tokens);
    }
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return send(
        reply,
        413,
        clientFault(
          'BODY_TOO_LARGE',
          'the request body is too large',
          'body',
          `at most ${app.initialConfig.bodyLimit} bytes`,
        ),
      );
    }
    if (e.statusCode === 429) {
      return send(
        reply,
        429,
        new MicrogridError('RATE_LIMITED', e.message || 'too many write requests; wait and retry'),
      );
    }
    const status = e.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // JSON syntax errors, unsupported media types, empty bodies: client faults fastify already classified.
      const code: ErrorCode =
        e.code && e.code in ERROR_CODES
          ? (e.code as ErrorCode)
          : status === 415
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : 'INVALID_INPUT';
      return send(reply, status, clientFault(code, e.message, 'body'));
    }
    app.log.error({ err }, 'unhandled error in request');
    return reply.status(500).send({ code: 'INTERNAL', message: 'internal error; the server log has the cause' });
  });

  app.setNotFoundHandler((req, reply) =>
    send(
      reply,
      404,
      new MicrogridError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`, {
        field: 'url',
        value: req.url.split('?')[0],
        expected: 'a route listed at /api/docs',
      }),
    ),
  );
}

/** The fastify option `frameworkErrors`: a URL that does not decode, a path parameter longer than maxParamLength. */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const e =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? clientFault(
          'URI_TOO_LONG',
          'a path segment of the URL is too long',
          'url',
          'path segments of at most 100 characters',
        )
      : err.code === 'FST_ERR_BAD_URL'
        ? clientFault('INVALID_INPUT', 'the URL does not decode', 'url', 'a URL with valid percent-encoding')
        : clientFault('INVALID_INPUT', 'the request could not be routed', 'url');
  void send(reply, httpStatus(e.code), e);
}

/**
 * The fastify option `clientErrorHandler`: what Node's HTTP parser refuses
 * before any route runs (headers or URL beyond the header limit, a request
 * that never finished, malformed HTTP). Written to the socket in the API's
 * error format, then the socket is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message, expected]: [ErrorCode, string, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [
          'HEADERS_TOO_LARGE',
          'the request line and headers are too large',
          'at most 16 KiB of request line and headers',
        ]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['REQUEST_TIMEOUT', 'the request was not received in time', 'a complete request within the server timeout']
        : ['INVALID_INPUT', 'the request is not valid HTTP', 'an HTTP/1.1 request'];
  const status = httpStatus(code);
  const body = JSON.stringify(new MicrogridError(code, message, { field: 'request', expected }).toJSON());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** How deep `text` nests arrays and objects, stopping once past `limit` (strings skipped, escapes honoured). */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > limit) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}

/**
 * JSON bodies: refused when nested deeper than MAX_JSON_DEPTH, then parsed by
 * fastify's own parser with `__proto__` and `constructor.prototype` keys
 * refused (prototype pollution), not silently dropped.
 */
export function installJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      done(
        clientFault(
          'INVALID_INPUT',
          'the JSON body is nested too deeply',
          'body',
          `arrays and objects nested at most ${MAX_JSON_DEPTH} levels`,
        ),
        undefined,
      );
      return;
    }
    // eslint-disable-next-line @typescript-eslint/no-floating-promises -- fastify's default JSON parser is synchronous (it calls back); its type also admits async parsers
    parse(req, text, (err, value) => {
      if (err)
        done(
          clientFault(
            'INVALID_INPUT',
            `the body is not valid JSON: ${err.message}`,
            'body',
            'a JSON document without __proto__ or constructor.prototype keys',
          ),
          undefined,
        );
      else done(null, value);
    });
  });
}
