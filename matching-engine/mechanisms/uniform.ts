import type { Allocation } from '../efficient.js';
import type { CompiledRules } from '../rules.js';
import { zonePrices } from '../prices.js';
import { pairTrades } from '../result.js';
import { pairFlowsOf, type Outcome } from './outcome.js';

/**
 * Uniform price (pay-as-clear), the k-double auction: the efficient
 * allocation at one price per zone (see prices.ts). Sellers of zone z receive
 * z's seller price; a buyer pays its seller's zone price plus the fee. In one
 * zone, or with no fees and no binding export limit, that is one price for
 * everybody: `clearingPrice`.
 */
export function clearUniform(a: Allocation, cr: CompiledRules): Outcome {
  const { packed: p, sorted, net, flow, fill } = a;
  const Z = net.zones;
  const flows = pairFlowsOf(flow, Z);
  const zt = zonePrices(sorted.levels, flow, net, cr.floor, cr.cap, cr.k);
  const trades = pairTrades(p, sorted.perm, sorted.levels, a.sortedFill, flows, {
    kind: 'zone',
    seller: zt.seller,
    fee: net.fee,
  });
  // One clearing price when every zone that sells sells at the same price.
  const selling = new Set<number>();
  for (let za = 0; za < Z; za++)
    for (let zb = 0; zb < Z; zb++) if (flows.amount(za, zb) > 0) selling.add(zt.seller[za]!);
  const clearingPrice = selling.size === 1 ? [...selling][0]! : null;
  return {
    trades,
    fill,
    perm: sorted.bySeq,
    flows,
    matchedWh: flow.matchedWh,
    clearingPrice,
    zonePrices: flow.matchedWh > 0 ? zt : undefined,
  };
}
