import type { Allocation } from '../efficient.js';
import type { CompiledRules } from '../rules.js';
import { pairTrades } from '../result.js';
import { pairFlowsOf, type Outcome } from './outcome.js';

/**
 * Pay-as-bid and pay-as-offer: the same efficient allocation as uniform price
 * (so no surplus is lost, unlike merit-order pairing), each trade priced at
 * one side's limit. Pay-as-bid: the buyer pays its bid, fee included, and the
 * seller receives bid − fee. Pay-as-offer: the seller receives its offer and
 * the buyer pays offer + fee. The zone pairing guarantees bid ≥ offer + fee
 * for every trade, so both sides stay within their limits.
 */
export function clearPayAs(side: 'bid' | 'offer', a: Allocation, _cr: CompiledRules): Outcome {
  const { packed: p, sorted, net, flow, fill } = a;
  const Z = net.zones;
  const flows = pairFlowsOf(flow, Z);
  const trades = pairTrades(p, sorted.perm, sorted.levels, a.sortedFill, flows, { kind: side, fee: net.fee });
  return { trades, fill, perm: sorted.bySeq, flows, matchedWh: flow.matchedWh, clearingPrice: null };
}
