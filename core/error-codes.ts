/**
 * Every error the system raises has a stable code from this table. The code is
 * what clients and scripts match on; the message is for people and may change.
 * `docs/errors.md` documents each code (a test keeps the two in step). What a
 * code becomes at an edge is the edge's: the HTTP status in
 * dashboard/http-status.ts, the exit code in app/exit-codes.ts.
 */
export const ERROR_CODES = {
  // configuration and command line
  CONFIG_INVALID: { summary: 'A configuration value is missing, unknown or out of range.' },
  CONFIG_NOT_FOUND: { summary: 'The configuration file named by --config or MGX_CONFIG does not exist.' },
  CONFIG_PARSE: { summary: 'The configuration file is not valid YAML.' },
  SECRET_MISSING: { summary: 'A secret names an environment variable or file that is not there.' },
  USAGE: { summary: 'A command-line argument is missing or malformed.' },
  // values
  INVALID_ENERGY: { summary: 'An energy value is not a positive safe integer number of Wh.' },
  INVALID_PRICE: { summary: 'A price is not a decimal string on the price tick grid.' },
  INVALID_ID: { summary: 'An identifier does not match the allowed pattern.' },
  INVALID_TIME: { summary: 'A timestamp is not ISO 8601 UTC, or an interval start is not aligned.' },
  INVALID_INPUT: { summary: 'A request or file field has the wrong type or value.' },
  // ledger
  LEDGER_OPEN: { summary: 'The ledger file could not be opened or migrated.' },
  LEDGER_CONFLICT: { summary: 'A write conflicts with what the ledger already holds.' },
  NOT_FOUND: { summary: 'The requested record does not exist.' },
  // interval lifecycle
  INTERVAL_STATE: { summary: 'An interval cannot move from its current lifecycle state to the requested one.' },
  // matching engine (order book and clearing)
  ORDER_DUPLICATE: { summary: 'An order id is already in the book (or twice in one book file).' },
  PRICE_OUT_OF_RANGE: {
    summary: 'A limit price is below the price floor (feed-in tariff) or above the cap (retail tariff).',
  },
  INTERVAL_NOT_OPEN: { summary: 'An order names an interval that this book does not accept orders for.' },
  GATE_CLOSED: { summary: 'The interval has passed gate closure: its book no longer changes.' },
  // server
  PORT_IN_USE: { summary: 'The HTTP port is taken by another process.' },
  INTERNAL: { summary: 'An unexpected failure; the log has the cause.' },
  // dashboard (HTTP API and WebSocket stream)
  UNAUTHORIZED: { summary: 'The request needs a bearer token, or the token given is not known.' },
  FORBIDDEN: { summary: 'The token is valid but its role may not see or change this record.' },
  RATE_LIMITED: { summary: 'Too many write requests in a short time; wait and retry.' },
  BODY_TOO_LARGE: { summary: 'The request body is larger than the server accepts.' },
  UNSUPPORTED_MEDIA_TYPE: { summary: 'The request body is not of a media type the route reads (JSON).' },
  URI_TOO_LONG: { summary: 'A path segment of the URL is longer than the server accepts.' },
  HEADERS_TOO_LARGE: { summary: 'The request line and headers together are larger than the server accepts.' },
  REQUEST_TIMEOUT: { summary: 'The request did not arrive completely within the server timeout.' },
  ORDER_GATE_CLOSED: {
    summary:
      'Forward orders for this interval are no longer accepted (gate closure has passed) or the order is no longer open.',
  },
  // meter bridge (Modbus transport, SunSpec, profiles, readings)
  MODBUS_TIMEOUT: {
    summary: 'A Modbus device did not answer within the request timeout (after the configured retries).',
  },
  MODBUS_EXCEPTION: { summary: 'A Modbus device answered with an exception code (e.g. 2, illegal data address).' },
  MODBUS_CONNECT: { summary: 'The Modbus TCP host or serial port could not be opened, or the connection dropped.' },
  MODBUS_BAD_REPLY: {
    summary: 'A Modbus device answered with a reply of the wrong length, unit, function or content.',
  },
  SUNSPEC_NOT_FOUND: {
    summary: 'No SunSpec marker "SunS" at registers 40000, 50000 or 0, or no usable model in the chain.',
  },
  PROFILE_INVALID: {
    summary: 'A register-map profile file has an unknown type, overlapping registers or a missing field.',
  },
  METER_PAYLOAD_INVALID: {
    summary:
      'A message from an MQTT meter (Tasmota, Shelly) is not what its format says: not JSON, too large, a field missing, of the wrong type or out of range.',
  },
  MQTT_UNAVAILABLE: { summary: 'The MQTT broker at mqtt.url (or --mqtt) does not answer or refuses the login.' },
  READING_SIGNATURE: { summary: 'A pushed reading is not signed by the gateway registered for its meter.' },
  // settlement and contracts
  CHAIN_UNAVAILABLE: { summary: 'The chain RPC does not answer, or the embedded anvil could not start.' },
  CHAIN_REJECTED: { summary: 'The chain refused a settlement transaction or replied with something unexpected.' },
  CHAIN_CONFIG: {
    summary: 'The chain section names an unknown chain, lacks a key, or the RPC serves another chain id.',
  },
  SETTLEMENT_INVARIANT: {
    summary:
      'An interval does not balance: credits differ from metered export, or a statement does not sum to the cent.',
  },
  SETTLEMENT_STALLED: {
    summary:
      'An interval has waited on the chain longer than chain.stalledAfterSeconds (an alarm; mgx status shows it).',
  },
  SETTLEMENT_INPUT: {
    summary: 'An interval cannot be settled yet: no clearing result, no metered energy, or an unknown participant.',
  },
  // utility audit (mgx audit)
  AUDIT_INPUT: { summary: 'An audit argument is malformed: interval range, RPC URL, contract address or participant.' },
  AUDIT_BUNDLE: { summary: 'An evidence bundle does not parse or lacks a field the audit needs.' },
} as const satisfies Record<string, { summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
