import { mulberry32 } from '../../core/seeded-random.js';

/**
 * Deterministic daily shapes for the simulators. Hours are UTC hours of
 * market time, so a ManualClock or a fast ScaledClock runs a whole day.
 */

/** PV output at hour `h` (0–24) as a fraction of peak: zero at night, a sine-like bell from 06:00 to 18:00. */
export function pvFraction(h: number): number {
  if (h <= 6 || h >= 18) return 0;
  return Math.sin((Math.PI * (h - 6)) / 12) ** 1.5;
}

export interface LoadShape {
  baseW: number;
  morningW: number;
  eveningW: number;
  /** Hour offsets of the peaks for this household. */
  shiftH: number;
}

export function loadShape(seed: number): LoadShape {
  const r = mulberry32(seed); // seeded, so each household differs but repeats
  return {
    baseW: 200 + Math.round(r() * 250),
    morningW: 800 + Math.round(r() * 1200),
    eveningW: 1500 + Math.round(r() * 2000),
    shiftH: (r() - 0.5) * 2,
  };
}

const bump = (h: number, center: number, width: number): number => Math.exp(-(((h - center) / width) ** 2));

/** Household consumption at hour `h`, W: base load plus a morning and an evening peak. */
export function loadW(s: LoadShape, h: number): number {
  return s.baseW + s.morningW * bump(h, 7.5 + s.shiftH, 1.2) + s.eveningW * bump(h, 19.5 + s.shiftH, 2);
}
