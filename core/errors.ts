import type { ErrorCode } from './error-codes.js';

export interface MicrogridErrorOptions {
  /** The field, key path or argument at fault, e.g. `market.intervalMinutes`. */
  field?: string;
  /** The offending value, as received. */
  value?: unknown;
  /** What would have been accepted, in words: `one of 1, 5, 15, 30, 60`. */
  expected?: string;
  cause?: unknown;
}

/** Where a code is explained: its row in docs/errors.md, anchored by the code itself. */
export const docsPathOf = (code: string): string => `docs/errors.md#${code}`;

/**
 * The one error class of the project, shaped like viem's BaseError:
 * `shortMessage` (names the field, the value and what was expected, so a user
 * can act on it without reading code), `details` (the cause's own words),
 * `docsPath` (the code's row in docs/errors.md), `walk()` over causes. `code`
 * is stable (core/error-codes.ts); HTTP status and exit code are the edges'
 * mapping (dashboard/http-status.ts, app/exit-codes.ts), not the error's.
 *
 * Unlike viem, `message` stays the one-line short message: the API's JSON,
 * the CLI's one line (`mgx: MESSAGE [CODE]`) and alarm texts embed it. The
 * full text, with the Docs and Details lines, is `toString()`.
 */
export class MicrogridError extends Error {
  override readonly name = 'MicrogridError';
  readonly code: ErrorCode;
  readonly shortMessage: string;
  /** The cause's message (or its own details, when the cause is a MicrogridError); absent without a cause. */
  readonly details: string | undefined;
  readonly docsPath: string;
  readonly field: string | undefined;
  readonly value: unknown;
  readonly expected: string | undefined;

  constructor(code: ErrorCode, message: string, options: MicrogridErrorOptions = {}) {
    const shortMessage = composeMessage(message, options);
    super(shortMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = detailsOf(options.cause);
    this.docsPath = docsPathOf(code);
    this.field = options.field;
    this.value = options.value;
    this.expected = options.expected;
  }

  /**
   * The first error along the cause chain (this one included) for which `fn` is true, or null; without `fn`, the
   * innermost cause.
   */
  walk(): unknown;
  walk(fn: (err: unknown) => boolean): unknown;
  walk(fn?: (err: unknown) => boolean): unknown {
    return walk(this, fn);
  }

  /** viem's full message: the short message, then the docs anchor and the cause's details, one line each. */
  override toString(): string {
    return [
      `${this.name}: ${this.shortMessage}`,
      '',
      `Docs: ${this.docsPath}`,
      ...(this.details ? [`Details: ${this.details}`] : []),
    ].join('\n');
  }

  /** The JSON shape the API returns and the CLI prints with `--format json`. */
  toJSON(): { code: ErrorCode; message: string; field?: string; value?: unknown; expected?: string } {
    const out: { code: ErrorCode; message: string; field?: string; value?: unknown; expected?: string } = {
      code: this.code,
      message: this.message,
    };
    if (this.field !== undefined) out.field = this.field;
    if (this.value !== undefined) out.value = this.value;
    if (this.expected !== undefined) out.expected = this.expected;
    return out;
  }
}

function walk(err: unknown, fn?: (err: unknown) => boolean): unknown {
  if (fn?.(err)) return err;
  if (err !== null && typeof err === 'object' && 'cause' in err && err.cause !== undefined) return walk(err.cause, fn);
  return fn ? null : err;
}

function detailsOf(cause: unknown): string | undefined {
  if (cause instanceof MicrogridError) return cause.details ?? cause.shortMessage;
  if (cause instanceof Error) return cause.message || undefined;
  return cause === undefined ? undefined : String(cause);
}

export function isMicrogridError(err: unknown, code?: ErrorCode): err is MicrogridError {
  return err instanceof MicrogridError && (code === undefined || err.code === code);
}

/** Renders a value for a message: short, quoted when a string, never multi-line. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  try {
    const s = JSON.stringify(value);
    if (s === undefined) return String(value);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    // Too deep or cyclic for JSON: String() would walk it the same way (and overflow the stack).
    return Array.isArray(value) ? `an array of ${value.length}` : `a ${typeof value}`;
  }
}

function composeMessage(message: string, d: MicrogridErrorOptions): string {
  // Callers may pass a full sentence; when they give field/value/expected, the
  // message is built so all three always appear in the same order.
  if (d.field === undefined) return message;
  const parts = [`${d.field}: ${message}`];
  if ('value' in d) parts.push(`got ${describeValue(d.value)}`);
  if (d.expected !== undefined) parts.push(`expected ${d.expected}`);
  return parts.join('; ');
}

/** Shorthand for the common "this field has a bad value" error. */
export function invalid(
  code: ErrorCode,
  field: string,
  value: unknown,
  expected: string,
  message = 'invalid value',
): MicrogridError {
  return new MicrogridError(code, message, { field, value, expected });
}
