import type { PriceScale, PriceString, PriceTicks } from '../core/units.js';

/**
 * Integer-only conversions between decimal price strings and ticks, for the
 * hot path: decimal.js is exact but costs microseconds per call, and a book
 * can hold thousands of distinct prices. Exactness is kept: a string is
 * accepted only when it is a plain non-negative decimal whose value in units
 * of 10^-decimals is a safe integer; anything else returns undefined and the
 * caller falls back to PriceScale (which also produces the error message).
 */
export interface TickFormat {
  /** Decimals of the tick ("0.0001" → 4). */
  decimals: number;
  /** The tick in units of 10^-decimals ("0.0005" → 5). */
  unit: number;
}

export function tickFormat(scale: PriceScale): TickFormat {
  const d = scale.decimals;
  const digits = scale.tick.replace('.', '').replace(/^0+/, '');
  return { decimals: d, unit: Number(digits) };
}

export function parseTicks(s: string, f: TickFormat): PriceTicks | undefined {
  const n = s.length;
  let v = 0;
  let i = 0;
  let c = s.charCodeAt(0);
  if (n === 0 || c < 48 || c > 57) return undefined;
  if (c === 48 && n > 1 && s.charCodeAt(1) !== 46) return undefined; // "01"
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (c === 46) break;
    if (c < 48 || c > 57) return undefined;
    v = v * 10 + (c - 48);
  }
  let frac = 0;
  if (i < n) {
    i++;
    if (i === n) return undefined; // "1."
    for (; i < n; i++) {
      c = s.charCodeAt(i);
      if (c < 48 || c > 57) return undefined;
      if (frac < f.decimals) {
        v = v * 10 + (c - 48);
        frac++;
      } else if (c !== 48) return undefined; // finer than the tick's decimals: off the grid
    }
  }
  for (; frac < f.decimals; frac++) v *= 10;
  if (!Number.isSafeInteger(v) || v % f.unit !== 0) return undefined;
  return v / f.unit;
}

export function formatTicks(t: PriceTicks, f: TickFormat): PriceString {
  const v = t * f.unit;
  if (!Number.isSafeInteger(v) || v < 0) return '';
  if (f.decimals === 0) return String(v);
  const s = String(v).padStart(f.decimals + 1, '0');
  return `${s.slice(0, s.length - f.decimals)}.${s.slice(s.length - f.decimals)}`;
}
