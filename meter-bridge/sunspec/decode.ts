import { applyScale, decodeString, decodeValue } from '../registers/decode.js';
import type { SunSpecModel, SunSpecPoint } from './models.js';

export type PointValue = number | bigint | string | null;

function raw(
  p: SunSpecPoint,
  regs: readonly number[],
  from: number,
  modelLength: number,
): number | bigint | string | null {
  if (p.offset + p.size > modelLength + 2) return null;
  const start = p.offset - from;
  if (start < 0 || start + p.size > regs.length)
    throw new RangeError(
      `point ${p.name} (offset ${p.offset}) is outside the block read (${from}..${from + regs.length - 1})`,
    );
  const words = regs.slice(start, start + p.size);
  if (p.type === 'string') return decodeString(words);
  if (p.type === 'pad') return null;
  return decodeValue(p.type, words);
}

/**
 * Decodes point `p` of one model from `regs`, a block of registers that starts
 * at model register `from` (0 = the ID register). The scale factor comes from
 * the same block: the caller reads a value and its scale factor in one
 * request, so a value is never combined with the scale factor of another
 * moment. A point whose scale factor is not implemented is `null`, and so is a
 * point the device's model is too short for (L smaller than the JSON's).
 */
export function decodePoint(
  model: SunSpecModel,
  p: SunSpecPoint,
  regs: readonly number[],
  from: number,
  modelLength: number,
): PointValue {
  const v = raw(p, regs, from, modelLength);
  if (v === null || typeof v === 'string' || p.sf === null) return v;
  let sf: number | null;
  if (typeof p.sf === 'number') sf = p.sf;
  else {
    const sfPoint = model.byName.get(p.sf);
    const s = sfPoint ? raw(sfPoint, regs, from, modelLength) : null;
    // SunSpec allows scale factors from -10 to 10; anything else is garbage, not a value.
    sf = typeof s === 'number' && s >= -10 && s <= 10 ? s : null;
  }
  if (sf === null) return null;
  if (typeof v === 'bigint') {
    if (sf >= 0) return v * 10n ** BigInt(sf);
    return Number(v) / 10 ** -sf;
  }
  return applyScale(v, sf);
}

/** The registers (model-relative, inclusive) needed for `names` and their scale factors. */
export function pointSpan(
  model: SunSpecModel,
  names: readonly string[],
  modelLength: number,
): { from: number; to: number } | null {
  let from = Infinity;
  let to = -Infinity;
  const take = (p: SunSpecPoint | undefined): void => {
    if (!p || p.offset + p.size > modelLength + 2) return;
    from = Math.min(from, p.offset);
    to = Math.max(to, p.offset + p.size - 1);
  };
  for (const n of names) {
    const p = model.byName.get(n);
    take(p);
    if (p && typeof p.sf === 'string') take(model.byName.get(p.sf));
  }
  return from === Infinity ? null : { from, to };
}
