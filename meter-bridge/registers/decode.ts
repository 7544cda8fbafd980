import type { WordOrder } from './types.js';

/**
 * Decodes one value from 16-bit registers. Returns `null` for the SunSpec
 * "not implemented" sentinel of the type (0x8000 for int16, 0xFFFF for
 * uint16, 0x80000000 for int32, NaN for float32, 0 for accumulators, …) —
 * never a huge number or a 0 that looks like a real measurement. Non-SunSpec
 * profiles use the same rule: a meter that answers 0xFFFF at night means
 * "nothing", not 65535 W.
 */
export function decodeValue(
  type: string,
  words: readonly number[],
  order: WordOrder = 'high-first',
): number | bigint | null {
  const w = order === 'high-first' ? words : [...words].reverse();
  const at = (i: number): number => {
    const v = w[i];
    if (v === undefined) throw new RangeError(`register ${i} missing for ${type}`);
    return v & 0xffff;
  };
  switch (type) {
    case 'int16':
    case 'sunssf': {
      const v = at(0);
      if (v === 0x8000) return null;
      return v >= 0x8000 ? v - 0x10000 : v;
    }
    case 'uint16':
    case 'enum16':
    case 'bitfield16':
    case 'count': {
      const v = at(0);
      return v === 0xffff ? null : v;
    }
    case 'acc16': {
      const v = at(0);
      return v === 0 ? null : v;
    }
    case 'int32': {
      const u = at(0) * 0x10000 + at(1);
      if (u === 0x80000000) return null;
      return u >= 0x80000000 ? u - 0x100000000 : u;
    }
    case 'uint32':
    case 'enum32':
    case 'bitfield32':
    case 'ipaddr': {
      const u = at(0) * 0x10000 + at(1);
      return u === 0xffffffff ? null : u;
    }
    case 'acc32': {
      const u = at(0) * 0x10000 + at(1);
      return u === 0 ? null : u;
    }
    case 'float32': {
      const buf = Buffer.alloc(4);
      buf.writeUInt16BE(at(0), 0);
      buf.writeUInt16BE(at(1), 2);
      const f = buf.readFloatBE(0);
      return Number.isFinite(f) ? f : null;
    }
    case 'float64': {
      const buf = Buffer.alloc(8);
      for (let i = 0; i < 4; i++) buf.writeUInt16BE(at(i), i * 2);
      const f = buf.readDoubleBE(0);
      return Number.isFinite(f) ? f : null;
    }
    case 'int64':
    case 'uint64':
    case 'acc64':
    case 'bitfield64': {
      let u = 0n;
      for (let i = 0; i < 4; i++) u = (u << 16n) | BigInt(at(i));
      if (type === 'int64') {
        if (u === 0x8000000000000000n) return null;
        return u >= 0x8000000000000000n ? u - 0x10000000000000000n : u;
      }
      if (type === 'acc64') return u === 0n ? null : u;
      return u === 0xffffffffffffffffn ? null : u;
    }
    default:
      throw new RangeError(`cannot decode register type ${type}`);
  }
}

/** A SunSpec string: ASCII, NUL padded; all NUL means not implemented. */
export function decodeString(words: readonly number[]): string | null {
  const bytes: number[] = [];
  for (const w of words) bytes.push((w >> 8) & 0xff, w & 0xff);
  const end = bytes.indexOf(0);
  const s = Buffer.from(end === -1 ? bytes : bytes.slice(0, end))
    .toString('latin1')
    .trim();
  return s.length === 0 ? null : s;
}

/** Encodes a value into registers (simulators and tests). `null` writes the type's sentinel. */
export function encodeValue(type: string, value: number | bigint | null, order: WordOrder = 'high-first'): number[] {
  let out: number[];
  switch (type) {
    case 'int16':
    case 'sunssf':
      out = [value === null ? 0x8000 : Number(value) & 0xffff];
      break;
    case 'uint16':
    case 'enum16':
    case 'bitfield16':
    case 'count':
      out = [value === null ? 0xffff : Number(value) & 0xffff];
      break;
    case 'acc16':
      out = [value === null ? 0 : Number(value) & 0xffff];
      break;
    case 'int32':
    case 'uint32':
    case 'enum32':
    case 'bitfield32':
    case 'acc32': {
      const sentinel = type === 'int32' ? 0x80000000 : type === 'acc32' ? 0 : 0xffffffff;
      const u = value === null ? sentinel : ((Number(value) % 0x100000000) + 0x100000000) % 0x100000000;
      out = [Math.floor(u / 0x10000), u % 0x10000];
      break;
    }
    case 'float32': {
      const buf = Buffer.alloc(4);
      buf.writeFloatBE(value === null ? NaN : Number(value), 0);
      out = [buf.readUInt16BE(0), buf.readUInt16BE(2)];
      break;
    }
    case 'int64':
    case 'uint64':
    case 'acc64': {
      const sentinel = type === 'int64' ? 0x8000000000000000n : type === 'acc64' ? 0n : 0xffffffffffffffffn;
      let u = value === null ? sentinel : BigInt(value);
      if (u < 0n) u += 0x10000000000000000n;
      out = [
        Number((u >> 48n) & 0xffffn),
        Number((u >> 32n) & 0xffffn),
        Number((u >> 16n) & 0xffffn),
        Number(u & 0xffffn),
      ];
      break;
    }
    default:
      throw new RangeError(`cannot encode register type ${type}`);
  }
  return order === 'high-first' ? out : out.reverse();
}

export function encodeString(s: string, words: number): number[] {
  const bytes = Buffer.alloc(words * 2);
  bytes.write(s.slice(0, words * 2), 'latin1');
  const out: number[] = [];
  for (let i = 0; i < words; i++) out.push(bytes.readUInt16BE(i * 2));
  return out;
}

/** value × 10^sf computed without binary-float drift for negative exponents. */
export function applyScale(value: number, sf: number): number {
  if (sf === 0) return value;
  if (sf > 0) return value * 10 ** sf;
  return value / 10 ** -sf;
}
