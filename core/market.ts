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
}

export interface OrderRemainder {
  order: string;
  participant: string;
  side: Side;
  filledWh: Wh;
  /** What is left, settled against the grid. */
  leftWh: Wh;
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
}
