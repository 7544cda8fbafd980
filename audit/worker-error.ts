import { MicrogridError } from '../core/errors.js';
import type { ErrorCode } from '../core/error-codes.js';

/**
 * An error leaves a worker thread structured-cloned: its message, stack and
 * cause survive, its class and `code` do not, so a CHAIN_UNAVAILABLE in a
 * worker reached the CLI as an "unexpected error". The worker throws the
 * code inside a plain cause object (which the clone keeps); the pool turns it
 * back into a MicrogridError of the same code.
 */
interface CarriedCode {
  microgridCode: ErrorCode;
  cause?: unknown;
}

/** In the worker: the error to throw so its code crosses the thread boundary. */
export function carryCode(err: unknown): unknown {
  if (!(err instanceof MicrogridError)) return err;
  const carried: CarriedCode = { microgridCode: err.code, ...(err.cause === undefined ? {} : { cause: err.cause }) };
  return new Error(err.message, { cause: carried });
}

/** In the main thread: the code a worker's error carries, if any. */
export function carriedCode(err: unknown): ErrorCode | undefined {
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (typeof cause !== 'object' || cause === null || !('microgridCode' in cause)) return undefined;
  return (cause as CarriedCode).microgridCode;
}
