import { ERROR_CODES, type ErrorCode } from './error-codes.js';

export interface MicrogridErrorDetails {
  /** The field, key path or argument at fault, e.g. `market.intervalMinutes`. */
  field?: string;
  /** The offending value, as received. */
  value?: unknown;
  /** What would have been accepted, in words: `one of 1, 5, 15, 30, 60`. */
  expected?: string;
  /** HTTP status override; defaults to the code's status. */
  status?: number;
  cause?: unknown;
}

/**
 * The one error class of the project. `code` is stable (see ERROR_CODES);
 * `message` names the field, the value and what was expected, so a user can act
 * on it without reading code.
 */
export class MicrogridError extends Error {
  override readonly name = 'MicrogridError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly value: unknown;
  readonly expected: string | undefined;

  constructor(code: ErrorCode, message: string, details: MicrogridErrorDetails = {}) {
    super(composeMessage(message, details), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status ?? ERROR_CODES[code].status;
    this.field = details.field;
    this.value = details.value;
    this.expected = details.expected;
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

function composeMessage(message: string, d: MicrogridErrorDetails): string {
  // Callers may pass a full sentence; when they give field/value/expected, the
  // message is built so all three always appear in the same order.
  if (d.field === undefined) return message;
  const parts = [`${d.field}: ${message}`];
  if ('value' in d) parts.push(`got ${describeValue(d.value)}`);
  if (d.expected !== undefined) parts.push(`expected ${d.expected}`);
  return parts.join('; ');
}

/** Shorthand for the common "this field has a bad value" error. */
export function invalid(code: ErrorCode, field: string, value: unknown, expected: string, message = 'invalid value'): MicrogridError {
  return new MicrogridError(code, message, { field, value, expected });
}
