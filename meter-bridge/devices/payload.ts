import { MicrogridError } from '../../core/errors.js';

/**
 * Strict reading of an MQTT meter's JSON payload. A message is refused whole
 * (METER_PAYLOAD_INVALID, naming the field and the value) rather than half
 * taken: a reading with a silently dropped counter would look like a gap or a
 * frozen counter to the meter-data rules.
 */

/** Larger messages are refused unread: a Tasmota SENSOR with a dozen sensors is ~2 KiB, a Shelly em:0 under 1 KiB. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

/**
 * Physical bounds: beyond them a value is a bug or an attack, not a measurement. (Rated power is judged later, as for
 * Modbus.)
 */
export const BOUNDS = {
  powerW: 10_000_000,
  voltageV: 1000,
  frequencyHz: 500,
  /** Counters are integers of Wh in the ledger: at most 2^53 − 1. */
  counterWh: Number.MAX_SAFE_INTEGER,
} as const;

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export function payloadError(format: string, field: string, value: unknown, expected: string): MicrogridError {
  // MicrogridError composes "<field>: <message>; got <value>; expected <expected>".
  return new MicrogridError('METER_PAYLOAD_INVALID', `${format} message refused`, { field, value, expected });
}

/** The payload as a JSON object, or METER_PAYLOAD_INVALID (too large, not UTF-8 JSON, not an object). */
export function parseJsonObject(format: string, payload: Buffer | string): JsonObject {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_PAYLOAD_BYTES)
    throw payloadError(format, '(payload)', `${size} bytes`, `at most ${MAX_PAYLOAD_BYTES} bytes`);
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    // Tasmota prints a broken sensor's float as nan/inf, which is not JSON: say so rather than "unexpected token".
    throw payloadError(
      format,
      '(payload)',
      text.slice(0, 80),
      /\b(nan|inf)\b/i.test(text) ? 'JSON (it holds nan or inf: a sensor that failed)' : 'a JSON object',
    );
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw payloadError(format, '(payload)', text.slice(0, 80), 'a JSON object');
  return v as JsonObject;
}

export function objectAt(format: string, o: JsonObject, key: string, path: string): JsonObject {
  const v = o[key];
  if (v === undefined) throw payloadError(format, path, undefined, 'an object');
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw payloadError(format, path, v, 'an object');
  return v;
}

export interface NumberRule {
  min: number;
  max: number;
  unit: string;
}

function checkNumber(format: string, path: string, v: Json | undefined, r: NumberRule): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw payloadError(format, path, v, `a number of ${r.unit}`);
  // Counter bounds (2^53 Wh) are not worth printing: "kWh ≥ 0" says it.
  if (v < r.min || v > r.max)
    throw payloadError(
      format,
      path,
      v,
      r.max >= 1e12 && v <= r.max ? r.unit : `${r.unit} between ${r.min} and ${r.max}`,
    );
  return v;
}

/** A required number within bounds. */
export function numberAt(format: string, o: JsonObject, key: string, path: string, r: NumberRule): number {
  return checkNumber(format, path, o[key], r);
}

/** An optional number: absent or null → null; anything else must be a number within bounds. */
export function optionalNumberAt(
  format: string,
  o: JsonObject,
  key: string,
  path: string,
  r: NumberRule,
): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  return checkNumber(format, path, v, r);
}

/**
 * A number or, on a multi-phase device, an array of one per phase (Tasmota
 * prints `[a,b,c]` per phase): each element within bounds; returned as the
 * elements. Absent → null.
 */
export function phasesAt(format: string, o: JsonObject, key: string, path: string, r: NumberRule): number[] | null {
  const v = o[key];
  if (v === undefined) return null;
  if (Array.isArray(v)) {
    if (v.length === 0 || v.length > 8)
      throw payloadError(format, path, v, `a number of ${r.unit} or an array of 1–8 (one per phase)`);
    return v.map((x, i) => checkNumber(format, `${path}[${i}]`, x, r));
  }
  return [checkNumber(format, path, v, r)];
}

/** kWh as a float (3 decimals by default on Tasmota) → whole Wh, as the Modbus path floors counters. */
export function kWhToWh(kWh: number): number {
  const wh = kWh * 1000;
  // 1234.567 kWh × 1000 is 1234566.9999999998 in binary floating point: that is 1234567 Wh, not 1234566.
  const r = Math.round(wh);
  return Math.abs(wh - r) <= Math.max(1e-9, wh * 1e-12) ? r : Math.floor(wh);
}
