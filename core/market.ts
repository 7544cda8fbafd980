import type { Mechanism } from './config/schema.js';
import type { PriceString, Wh } from './units.js';

/**
 * The market vocabulary shared by the matching engine (which produces it),
 * the ledger (which stores it), settlement (which pays it) and the dashboard
 * (which shows it). Plain JSON values: ISO times, decimal-string prices.
 */

export type Side = 'bid' | 'offer';
export type ClearingKind = 'forward' | 'metered';

export interface OrderInput {
  id: string;
  participant: string;
  side: Side;
  /** Interval start, ISO 8601 UTC. */
  interval: string;
  energyWh: Wh;
  /** Limit price per kWh, decimal string. */
  price: PriceString;
  zone: string;
  /** Submission sequence: earlier orders win ties after pro-rata. */
  seq: number;
  partners?: string[];
  greenOnly?: boolean;
}

export interface Trade {
  buyOrder: string;
  sellOrder: string;
  buyer: string;
  seller: string;
  energyWh: Wh;
  /** Price per kWh the seller receives. */
  price: PriceString;
  /** Grid fee per kWh the buyer pays on top of `price`. */
  fee: PriceString;
  /**
   * Price per kWh the buyer pays, fee included, when it is not `price + fee`:
   * only McAfee trade reduction sets it (the difference goes to the market
   * operator, never a deficit). Absent means the buyer pays `price + fee`.
   */
  buyerPrice?: PriceString;
}

/** Zonal prices of a uniform-price clearing (one row per zone, sorted by zone). */
export interface ZonePrice {
  zone: string;
  /** What sellers in this zone receive per kWh. */
  sellerPrice: PriceString;
  /**
   * The buyers' marginal price in this zone (fee included); a buyer pays its seller's zone price + fee, never more than
   * this.
   */
  buyerPrice: PriceString;
}

export interface OrderRemainder {
  order: string;
  participant: string;
  side: Side;
  filledWh: Wh;
  /** What is left, settled against the grid. */
  leftWh: Wh;
  /**
   * Netted against the same participant's own opposite orders before the
   * auction (nobody trades with themselves; matching-engine/self-net.ts):
   * neither traded nor left to the grid. Absent when 0.
   */
  nettedWh?: Wh;
}

export interface ClearingRules {
  mechanism: Mechanism;
  k: number;
  priceTick: PriceString;
  priceFloor: PriceString;
  priceCap: PriceString;
  zoneFees: { from: string; to: string; fee: PriceString }[];
  zoneExportLimitsWh: Record<string, Wh>;
  /** Version of the engine's rule set, so an auditor re-runs the same rules. */
  ruleSetVersion: string;
}

export interface ClearingResult {
  interval: string;
  kind: ClearingKind;
  rules: ClearingRules;
  /** The uniform price, or null when there is no single price (pay-as-bid, no trade). */
  clearingPrice: PriceString | null;
  matchedWh: Wh;
  /** Total surplus (welfare) in currency: Σ (bid − offer − fee) × kWh. */
  surplus: string;
  trades: Trade[];
  remainders: OrderRemainder[];
  /** Uniform price: the seller and buyer price of each zone (docs/matching-engine.md). */
  zonePrices?: ZonePrice[];
  /** McAfee trade reduction: what buyers pay above sellers' receipts and fees, in currency (never negative). */
  operatorSurplus?: string;
  /** McAfee: whether the last crossing pair was dropped ("reduced") or all traded at one price ("single-price"). */
  mcafee?: 'single-price' | 'reduced';
}

/**
 * The most energy one order may name, whoever places it: 1 MWh, a thousand
 * times a household's hour. It keeps every book's total a safe integer (9e9
 * orders at the maximum still are) and stops a typo of six zeros from sitting
 * in the book; docs/matching-engine.md, "Bounds".
 */
export const MARKET_MAX_ORDER_WH = 1_000_000;

/**
 * Rated power assumed for a meter whose config (`ratedPowerW`) and ledger
 * (`meters.rated_power_w`) give none: a grid connection of 3 × 35 A at 230 V (24.15 kW),
 * a large rooftop inverter.
 */
export const DEFAULT_RATED_POWER_W: Readonly<Record<'grid' | 'pv', number>> = { grid: 24_150, pv: 10_000 };

/**
 * What a participant's meters can deliver in one interval, in Wh: the rated
 * power of its grid connection meters (where forward orders are delivered)
 * times the interval, or of all its meters when it has no grid meter; capped
 * at MARKET_MAX_ORDER_WH. The bound of all of its open orders of one side.
 */
export function deliverableWh(
  meters: readonly { role: string; ratedPowerW: number | null }[],
  intervalMinutes: number,
): number {
  const grid = meters.filter((m) => m.role === 'grid');
  const used = grid.length > 0 ? grid : meters;
  const watts = used.reduce(
    (a, m) => a + (m.ratedPowerW ?? (m.role === 'pv' ? DEFAULT_RATED_POWER_W.pv : DEFAULT_RATED_POWER_W.grid)),
    0,
  );
  return Math.min(MARKET_MAX_ORDER_WH, Math.floor((watts * intervalMinutes) / 60));
}
