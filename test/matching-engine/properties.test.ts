import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clearBook } from '../../matching-engine/clear.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { Dec } from '../../core/units.js';
import type { ClearingRules, OrderInput } from '../../core/market.js';
import { fcParams } from '../helpers/fc.js';
import { checkInvariants, nettedBook } from './invariants.js';
import { I } from './helpers.js';
import { bookArb, rulesArb } from './arbitraries.js';

/**
 * The brute-force optimum: every order split into 1 Wh units, and an exhaustive
 * search (dynamic programming over the subsets of the smaller side's units) of
 * the matching with the largest Σ (bid − offer − fee). Tick·Wh.
 */
function bruteForceSurplus(orders: OrderInput[], r: ClearingRules): number {
  const fee = (from: string, to: string): number => {
    const f = r.zoneFees.find((x) => x.from === from && x.to === to);
    return f ? Math.round(Number(f.fee) * 10000) : 0;
  };
  const units = (side: string): { t: number; z: string }[] =>
    orders
      .filter((o) => o.side === side)
      .flatMap((o) =>
        Array.from({ length: o.energyWh }, () => ({ t: Math.round(Number(o.price) * 10000), z: o.zone })),
      );
  const bids = units('bid');
  const offers = units('offer');
  const small = offers.length <= bids.length ? offers : bids;
  const big = small === offers ? bids : offers;
  const gain = (a: { t: number; z: string }, b: { t: number; z: string }): number =>
    small === offers ? a.t - b.t - fee(b.z, a.z) : b.t - a.t - fee(a.z, b.z);
  let dp = new Float64Array(1 << small.length).fill(-Infinity);
  dp[0] = 0;
  for (const a of big) {
    const next = dp.slice();
    for (let mask = 0; mask < dp.length; mask++) {
      if (dp[mask] === -Infinity) continue;
      for (let j = 0; j < small.length; j++) {
        if (mask & (1 << j)) continue;
        const g = gain(a, small[j]!);
        if (g >= 0) next[mask | (1 << j)] = Math.max(next[mask | (1 << j)]!, dp[mask]! + g);
      }
    }
    dp = next;
  }
  return Math.max(...dp);
}

test('every mechanism: volume conserved, no over-fill, limits (+fee) kept, prices in [floor, cap], export limits, money balanced', () => {
  fc.assert(
    fc.property(bookArb(40, 2000), rulesArb(true), (orders, r) => {
      checkInvariants(orders, r, clearBook({ interval: I, orders }, r));
    }),
    fcParams('invariants', { numRuns: 300 }),
  );
});

test('uniform price reaches the brute-force optimum surplus on books of up to 8 orders (with zone fees)', () => {
  fc.assert(
    fc.property(bookArb(8, 3), rulesArb(false), (orders, r0) => {
      const r = { ...r0, mechanism: 'uniform' as const };
      const res = clearBook({ interval: I, orders }, r);
      const got = new Dec(res.surplus).mul(1000).div(r.priceTick).toNumber();
      assert.equal(got, bruteForceSurplus(nettedBook(orders, res), r));
      // pay-as-bid and pay-as-offer use the same allocation: the same surplus.
      for (const m of ['pay-as-bid', 'pay-as-offer'] as const)
        assert.equal(clearBook({ interval: I, orders }, { ...r, mechanism: m }).surplus, res.surplus);
    }),
    fcParams('brute-force optimum', { numRuns: 200 }),
  );
});

/**
 * The brute-force optimum under export limits: every matching of 1 Wh units
 * (each unit of the larger side takes a free unit of the other or none),
 * enumerated recursively, skipping any that sells more out of a zone than its
 * limit. Tick·Wh.
 */
function bruteForceWithLimits(orders: OrderInput[], r: ClearingRules): number {
  const fee = (from: string, to: string): number => {
    const f = r.zoneFees.find((x) => x.from === from && x.to === to);
    return f ? Math.round(Number(f.fee) * 10000) : 0;
  };
  const units = (side: string): { t: number; z: string }[] =>
    orders
      .filter((o) => o.side === side)
      .flatMap((o) =>
        Array.from({ length: o.energyWh }, () => ({ t: Math.round(Number(o.price) * 10000), z: o.zone })),
      );
  const bids = units('bid');
  const offers = units('offer');
  const used = new Array<boolean>(offers.length).fill(false);
  const exported = new Map<string, number>();
  let best = 0;
  const walk = (i: number, acc: number): void => {
    if (i === bids.length) {
      best = Math.max(best, acc);
      return;
    }
    walk(i + 1, acc);
    const b = bids[i]!;
    for (let j = 0; j < offers.length; j++) {
      const s = offers[j]!;
      const g = b.t - s.t - fee(s.z, b.z);
      if (used[j] || g < 0) continue;
      const cross = s.z !== b.z;
      const lim = r.zoneExportLimitsWh[s.z];
      if (cross && lim !== undefined && (exported.get(s.z) ?? 0) >= lim) continue;
      used[j] = true;
      if (cross) exported.set(s.z, (exported.get(s.z) ?? 0) + 1);
      walk(i + 1, acc + g);
      used[j] = false;
      if (cross) exported.set(s.z, exported.get(s.z)! - 1);
    }
  };
  walk(0, 0);
  return best;
}

test('uniform price reaches the brute-force optimum with export limits too (books of up to 6 orders)', () => {
  fc.assert(
    fc.property(bookArb(6, 2), rulesArb(true), (orders, r0) => {
      const r = { ...r0, mechanism: 'uniform' as const };
      const res = clearBook({ interval: I, orders }, r);
      assert.equal(
        new Dec(res.surplus).mul(1000).div(r.priceTick).toNumber(),
        bruteForceWithLimits(nettedBook(orders, res), r),
      );
    }),
    fcParams('brute-force optimum with export limits', { numRuns: 200 }),
  );
});

test('the result is the same, byte for byte, for any order of the input', () => {
  fc.assert(
    fc.property(
      bookArb(40, 2000).chain((orders) =>
        fc.tuple(
          fc.constant(orders),
          fc.array(fc.double({ noNaN: true }), { minLength: orders.length, maxLength: orders.length }),
        ),
      ),
      rulesArb(true),
      ([orders, keys], r) => {
        const shuffled = orders
          .map((o, i) => [keys[i]!, o] as const)
          .sort((a, b) => a[0] - b[0])
          .map(([, o]) => o);
        assert.equal(
          canonicalJson(clearBook({ interval: I, orders: shuffled }, r)),
          canonicalJson(clearBook({ interval: I, orders }, r)),
        );
      },
    ),
    fcParams('determinism under shuffles', { numRuns: 200 }),
  );
});

test('McAfee never runs a deficit and never trades more than the efficient allocation', () => {
  fc.assert(
    fc.property(bookArb(40, 2000), rulesArb(true), (orders, r0) => {
      const m = clearBook({ interval: I, orders }, { ...r0, mechanism: 'mcafee' });
      const u = clearBook({ interval: I, orders }, { ...r0, mechanism: 'uniform' });
      assert.ok(m.matchedWh <= u.matchedWh);
      assert.ok(new Dec(m.operatorSurplus ?? '0').gte(0));
      for (const t of m.trades)
        assert.ok(new Dec(t.buyerPrice ?? new Dec(t.price).plus(t.fee)).gte(new Dec(t.price).plus(t.fee)));
      assert.ok(new Dec(m.surplus).lte(u.surplus), "McAfee gives up at most the last pair's surplus, never gains");
    }),
    fcParams('mcafee budget', { numRuns: 300 }),
  );
});
