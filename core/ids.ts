import { randomUUID } from 'node:crypto';
import { invalid } from './errors.js';

/** Ids of participants, meters, devices and orders: short, printable, URL-safe. */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const ID_PATTERN = ID_RE.source;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_RE.test(value);
}

export function assertId(value: unknown, field: string): string {
  if (!isId(value))
    throw invalid(
      'INVALID_ID',
      field,
      value,
      '1–64 characters: letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
    );
  return value;
}

/** A new random id with a readable prefix: `ord-3f2a…`. */
export function newId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}
