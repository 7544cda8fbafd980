/**
 * Register value types, shared by SunSpec points and register-map profiles.
 * Everything on the wire is a 16-bit word; multi-word values are assembled
 * according to the device's word order (SunSpec is always high word first;
 * Carlo Gavazzi EM24, for one, sends the low word first).
 */

export const PROFILE_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'int64'] as const;
export type ProfileType = (typeof PROFILE_TYPES)[number];

export type SunSpecType =
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'acc16'
  | 'acc32'
  | 'acc64'
  | 'float32'
  | 'float64'
  | 'enum16'
  | 'enum32'
  | 'bitfield16'
  | 'bitfield32'
  | 'bitfield64'
  | 'sunssf'
  | 'string'
  | 'pad'
  | 'count'
  | 'ipaddr'
  | 'ipv6addr'
  | 'eui48';

export type WordOrder = 'high-first' | 'low-first';
export const WORD_ORDERS: readonly WordOrder[] = ['high-first', 'low-first'];

/** Registers each numeric type occupies. */
export const TYPE_WORDS: Readonly<Record<string, number>> = {
  int16: 1,
  uint16: 1,
  acc16: 1,
  enum16: 1,
  bitfield16: 1,
  sunssf: 1,
  pad: 1,
  count: 1,
  int32: 2,
  uint32: 2,
  acc32: 2,
  enum32: 2,
  bitfield32: 2,
  float32: 2,
  ipaddr: 2,
  int64: 4,
  uint64: 4,
  acc64: 4,
  bitfield64: 4,
  float64: 4,
};
