import type { Config } from '../core/config/schema.js';
import { MECHANISMS } from '../core/config/schema.js';
import type { ClearingRules } from '../core/market.js';
import { invalid } from '../core/errors.js';
import { isId } from '../core/ids.js';
import { PriceScale, type PriceTicks, type Wh } from '../core/units.js';

/**
 * Version of the clearing rules this engine implements. It goes into every
 * ClearingResult so an auditor re-runs a result with the same rules; bump it
 * whenever an allocation, price or tie-break rule changes.
 */
export const RULE_SET_VERSION = 'mgx-clearing/2';
// mgx-clearing/2: preferred partners are paired first within a zone pair (pairing only: fills, prices and surplus as in
// /1).

/** The market section of the config as ClearingRules (feed-in tariff = floor, retail tariff = cap). */
export function rulesFromConfig(market: Config['market']): ClearingRules {
  return {
    mechanism: market.mechanism,
    k: market.k,
    priceTick: market.priceTick,
    priceFloor: market.feedInTariff,
    priceCap: market.retailTariff,
    zoneFees: market.zoneFees.map((f) => ({ from: f.from, to: f.to, fee: f.fee })),
    zoneExportLimitsWh: { ...market.zoneExportLimitsWh },
    ruleSetVersion: RULE_SET_VERSION,
  };
}

/** ClearingRules checked and turned into integer ticks, ready for the hot path. */
export interface CompiledRules {
  rules: ClearingRules;
  scale: PriceScale;
  floor: PriceTicks;
  cap: PriceTicks;
  /** k as the exact decimal string it was given as (JS's shortest round-trip form). */
  k: string;
  /** fee in ticks from seller zone to buyer zone; a pair not listed costs 0. */
  fee(from: string, to: string): PriceTicks;
  /** The most a zone may sell to other zones, in Wh; Infinity when unlimited. */
  exportLimit(zone: string): number;
}

/** Validates rules (fields named `${prefix}.x`) and compiles them. */
export function compileRules(rules: ClearingRules, prefix = 'rules'): CompiledRules {
  if (!(MECHANISMS as readonly string[]).includes(rules.mechanism)) {
    throw invalid('INVALID_INPUT', `${prefix}.mechanism`, rules.mechanism, `one of ${MECHANISMS.join(', ')}`);
  }
  if (typeof rules.k !== 'number' || !Number.isFinite(rules.k) || rules.k < 0 || rules.k > 1) {
    throw invalid('INVALID_INPUT', `${prefix}.k`, rules.k, 'a number from 0 to 1');
  }
  const scale = new PriceScale(rules.priceTick);
  const floor = scale.toTicks(rules.priceFloor, `${prefix}.priceFloor`);
  const cap = scale.toTicks(rules.priceCap, `${prefix}.priceCap`);
  if (floor < 0) throw invalid('INVALID_PRICE', `${prefix}.priceFloor`, rules.priceFloor, 'a price ≥ 0');
  if (cap < floor)
    throw invalid('INVALID_PRICE', `${prefix}.priceCap`, rules.priceCap, `a price ≥ the floor ${rules.priceFloor}`);
  if (!Array.isArray(rules.zoneFees))
    throw invalid('INVALID_INPUT', `${prefix}.zoneFees`, rules.zoneFees, 'a list of { from, to, fee }');
  const fees = new Map<string, PriceTicks>();
  rules.zoneFees.forEach((f, i) => {
    const field = `${prefix}.zoneFees[${i}]`;
    if (!isId(f?.from)) throw invalid('INVALID_ID', `${field}.from`, f?.from, 'a zone id');
    if (!isId(f.to)) throw invalid('INVALID_ID', `${field}.to`, f.to, 'a zone id');
    const t = scale.toTicks(f.fee, `${field}.fee`);
    if (t < 0) throw invalid('INVALID_PRICE', `${field}.fee`, f.fee, 'a fee ≥ 0');
    const key = `${f.from}\u0000${f.to}`;
    if (fees.has(key)) throw invalid('INVALID_INPUT', `${field}`, `${f.from}→${f.to}`, 'each zone pair listed once');
    fees.set(key, t);
  });
  const limits = new Map<string, Wh>();
  const lim = rules.zoneExportLimitsWh ?? {};
  if (typeof lim !== 'object' || Array.isArray(lim))
    throw invalid('INVALID_INPUT', `${prefix}.zoneExportLimitsWh`, lim, 'a map of zone → Wh');
  for (const [zone, wh] of Object.entries(lim)) {
    if (!isId(zone)) throw invalid('INVALID_ID', `${prefix}.zoneExportLimitsWh`, zone, 'zone ids as keys');
    if (typeof wh !== 'number' || !Number.isSafeInteger(wh) || wh < 0) {
      throw invalid(
        'INVALID_ENERGY',
        `${prefix}.zoneExportLimitsWh.${zone}`,
        wh,
        'a non-negative integer number of Wh',
      );
    }
    limits.set(zone, wh);
  }
  return {
    rules,
    scale,
    floor,
    cap,
    k: String(rules.k),
    fee: (from, to) => fees.get(`${from}\u0000${to}`) ?? 0,
    exportLimit: (zone) => limits.get(zone) ?? Infinity,
  };
}
