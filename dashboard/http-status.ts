import type { ErrorCode } from '../core/error-codes.js';

/**
 * The HTTP status each error code answers with. The API is the only edge that
 * speaks HTTP, so the mapping lives here, not in core/; `satisfies` makes a
 * new code in core/error-codes.ts fail the typecheck until it has a status.
 * docs/errors.md lists the same figures (test/core/errors.test.ts compares).
 */
export const HTTP_STATUS = {
  CONFIG_INVALID: 400,
  CONFIG_NOT_FOUND: 400,
  CONFIG_PARSE: 400,
  SECRET_MISSING: 400,
  USAGE: 400,
  INVALID_ENERGY: 400,
  INVALID_PRICE: 400,
  INVALID_ID: 400,
  INVALID_TIME: 400,
  INVALID_INPUT: 400,
  LEDGER_OPEN: 500,
  LEDGER_CONFLICT: 409,
  NOT_FOUND: 404,
  INTERVAL_STATE: 409,
  ORDER_DUPLICATE: 409,
  PRICE_OUT_OF_RANGE: 400,
  INTERVAL_NOT_OPEN: 409,
  GATE_CLOSED: 409,
  PORT_IN_USE: 500,
  INTERNAL: 500,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  URI_TOO_LONG: 414,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  ORDER_GATE_CLOSED: 409,
  MODBUS_TIMEOUT: 504,
  MODBUS_EXCEPTION: 502,
  MODBUS_CONNECT: 502,
  MODBUS_BAD_REPLY: 502,
  SUNSPEC_NOT_FOUND: 502,
  PROFILE_INVALID: 400,
  METER_PAYLOAD_INVALID: 422,
  MQTT_UNAVAILABLE: 503,
  READING_SIGNATURE: 401,
  CHAIN_UNAVAILABLE: 503,
  CHAIN_REJECTED: 502,
  CHAIN_CONFIG: 400,
  SETTLEMENT_INVARIANT: 500,
  SETTLEMENT_STALLED: 503,
  SETTLEMENT_INPUT: 409,
  AUDIT_INPUT: 400,
  AUDIT_BUNDLE: 400,
} as const satisfies Record<ErrorCode, number>;

export const httpStatus = (code: ErrorCode): number => HTTP_STATUS[code];
