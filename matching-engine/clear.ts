import type { ClearingKind, ClearingResult, ClearingRules, OrderInput } from '../core/market.js';
import { invalid } from '../core/errors.js';
import { parseUtc } from '../core/interval.js';
import { compileRules, RULE_SET_VERSION, type CompiledRules } from './rules.js';
import { packOrders, type PackedOrders } from './orders.js';
import { efficientAllocation, type Allocation } from './efficient.js';
import {
  lazyList,
  remainders,
  surplusOfLevels,
  surplusTickWh,
  tickWhToMoney,
  tradeObjects,
  priceStrings,
} from './result.js';
import { clearUniform } from './mechanisms/uniform.js';
import { clearPayAs } from './mechanisms/pay-as.js';
import { clearMcAfee } from './mechanisms/mcafee.js';
import type { Outcome } from './mechanisms/outcome.js';

/** One interval's orders, as the book hands them over at gate closure (or a book file holds them). */
export interface BookInput {
  /** Interval start, ISO 8601 UTC; every order must name it. */
  interval: string;
  kind?: ClearingKind;
  orders: readonly OrderInput[];
}

const MECHANISM: Record<ClearingRules['mechanism'], (a: Allocation, cr: CompiledRules) => Outcome> = {
  uniform: clearUniform,
  'pay-as-bid': (a, cr) => clearPayAs('bid', a, cr),
  'pay-as-offer': (a, cr) => clearPayAs('offer', a, cr),
  mcafee: clearMcAfee,
};

/**
 * Clears one interval: validates the rules and every order, finds the
 * efficient allocation, prices it by the rules' mechanism and returns the
 * ClearingResult. Pure: the same book in any order and the same rules give
 * the same result, byte for byte under canonicalJson.
 */
export function clearBook(book: BookInput, rules: ClearingRules): ClearingResult {
  if (typeof book !== 'object' || book === null)
    throw invalid('INVALID_INPUT', 'book', book, 'an object { interval, orders }');
  parseUtc(book.interval, 'interval');
  const kind = book.kind ?? 'forward';
  if (kind !== 'forward' && kind !== 'metered') throw invalid('INVALID_INPUT', 'kind', kind, '"forward" or "metered"');
  const cr = compileRules(checkVersion(rules));
  return clearPacked(packOrders(book.orders, book.interval, cr), book.interval, kind, cr);
}

/** Surplus in tick·Wh: over price levels when the mechanism kept the efficient fills (all but McAfee's reduction). */
function surplusOf(alloc: Allocation, out: Outcome, cr: CompiledRules): bigint {
  const fee = alloc.net.fee;
  return out.fill === alloc.fill
    ? surplusOfLevels(alloc.sorted.levels, alloc.flow.levelFill, alloc.net.zones, out.flows, fee)
    : surplusTickWh(alloc.packed, out.fill, out.flows, fee, cr.floor, cr.cap);
}

function checkVersion(rules: ClearingRules): ClearingRules {
  if (rules?.ruleSetVersion !== RULE_SET_VERSION) {
    throw invalid(
      'INVALID_INPUT',
      'rules.ruleSetVersion',
      rules?.ruleSetVersion,
      `${RULE_SET_VERSION} (the rules this engine implements)`,
    );
  }
  return rules;
}

/**
 * Clears a validated, packed book (the OrderBook's columns at gate closure,
 * or clearBook's after packing). The trades and remainders stay in columns
 * until `result.trades` / `result.remainders` is first read: both are
 * enumerable, so JSON, canonical JSON and structured clone see plain lists.
 */
export function clearPacked(
  packed: PackedOrders,
  interval: string,
  kind: ClearingKind,
  cr: CompiledRules,
): ClearingResult {
  const rules = checkVersion(cr.rules);
  // A participant's own crossing bid and offer are netted first (self-net.ts): nobody trades with themselves.
  const alloc = efficientAllocation(packed, cr);
  const out = MECHANISM[rules.mechanism](alloc, cr);
  const str = priceStrings(cr.scale);
  const result = {
    interval,
    kind,
    rules: {
      mechanism: rules.mechanism,
      k: rules.k,
      priceTick: rules.priceTick,
      priceFloor: rules.priceFloor,
      priceCap: rules.priceCap,
      zoneFees: rules.zoneFees.map((f) => ({ from: f.from, to: f.to, fee: f.fee })),
      zoneExportLimitsWh: { ...rules.zoneExportLimitsWh },
      ruleSetVersion: rules.ruleSetVersion,
    },
    clearingPrice: out.clearingPrice === null ? null : str(out.clearingPrice),
    matchedWh: out.matchedWh,
    surplus: tickWhToMoney(surplusOf(alloc, out, cr), cr.scale),
  } as ClearingResult;
  lazyList(result, 'trades', () => tradeObjects(packed, out.trades, cr.scale));
  // Remainders list every order of the input, the netted ones too, with what each netted.
  lazyList(result, 'remainders', () => remainders(packed, out.perm, out.fill, alloc.netted ?? undefined));
  if (out.zonePrices) {
    const zp = out.zonePrices;
    result.zonePrices = alloc.zones.map((zone, z) => {
      const v = alloc.collapsed ? 0 : z;
      return { zone, sellerPrice: str(zp.seller[v]!), buyerPrice: str(zp.buyer[v]!) };
    });
  }
  if (out.operatorSurplus !== undefined) result.operatorSurplus = tickWhToMoney(out.operatorSurplus, cr.scale);
  if (out.mcafee !== undefined) result.mcafee = out.mcafee;
  return result;
}
