import type { PairFlows, TradeColumns } from '../result.js';
import type { Flow } from '../flow.js';
import type { ZoneTicks } from '../prices.js';

/** What a mechanism decides: the trades, the fills behind them and its prices. */
export interface Outcome {
  trades: TradeColumns;
  /** Energy each order fills, by input index. */
  fill: Float64Array;
  /** Order indices in the order remainders are listed. */
  perm: Uint32Array;
  flows: PairFlows;
  matchedWh: number;
  clearingPrice: number | null;
  zonePrices?: ZoneTicks | undefined;
  /** McAfee: buyers' payments above sellers' receipts and fees, tick·Wh. */
  operatorSurplus?: bigint | undefined;
  mcafee?: 'single-price' | 'reduced' | undefined;
}

export function pairFlowsOf(flow: Flow, Z: number): PairFlows {
  return { amount: (a, b) => (a === b ? flow.direct[a]! : flow.cross[a * Z + b]!) };
}
