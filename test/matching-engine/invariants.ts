import assert from 'node:assert/strict';
import type { ClearingResult, ClearingRules, OrderInput } from '../../core/market.js';
import { Dec, PriceScale } from '../../core/units.js';
import { intervalMoney } from '../../matching-engine/money.js';

/**
 * Checks every invariant a clearing result must hold, from the trades alone
 * (not from the engine's internals): volume conserved, no over-fill, limits
 * (+fee) respected, prices within [floor, cap], fees as configured, export
 * limits kept, money balanced, surplus as stated.
 */
export function checkInvariants(orders: readonly OrderInput[], rules: ClearingRules, r: ClearingResult): void {
  const scale = new PriceScale(rules.priceTick);
  const t = (p: string): number => scale.toTicks(p);
  const floor = t(rules.priceFloor);
  const cap = t(rules.priceCap);
  const feeOf = (from: string, to: string): number => {
    const f = rules.zoneFees.find((x) => x.from === from && x.to === to);
    return f ? t(f.fee) : 0;
  };
  const byId = new Map(orders.map((o) => [o.id, o]));
  const traded = new Map<string, number>();
  const exported = new Map<string, number>();
  let volume = 0;
  let surplus = 0n;
  for (const tr of r.trades) {
    const b = byId.get(tr.buyOrder);
    const s = byId.get(tr.sellOrder);
    assert.ok(b && b.side === 'bid', `trade buyer ${tr.buyOrder} is a bid`);
    assert.ok(s && s.side === 'offer', `trade seller ${tr.sellOrder} is an offer`);
    assert.equal(tr.buyer, b.participant);
    assert.equal(tr.seller, s.participant);
    assert.notEqual(tr.buyer, tr.seller, `no self-trade: ${tr.buyOrder} and ${tr.sellOrder} are both ${tr.buyer}'s`);
    assert.ok(Number.isSafeInteger(tr.energyWh) && tr.energyWh > 0, 'trade energy is a positive integer');
    const price = t(tr.price);
    const fee = t(tr.fee);
    assert.equal(fee, feeOf(s.zone, b.zone), 'the fee is the zone pair fee');
    const buyerTicks = tr.buyerPrice === undefined ? price + fee : t(tr.buyerPrice);
    assert.ok(price >= t(s.price), `seller ${s.id} receives ${tr.price} ≥ its offer ${s.price}`);
    assert.ok(buyerTicks <= t(b.price), `buyer ${b.id} pays ${buyerTicks} ≤ its bid ${b.price}`);
    assert.ok(buyerTicks >= price + fee, 'no trade runs a deficit');
    assert.ok(price >= floor && price <= cap, `price ${tr.price} within [floor, cap]`);
    if (tr.buyerPrice !== undefined)
      assert.ok(buyerTicks >= floor && buyerTicks <= cap, 'buyer price within [floor, cap]');
    traded.set(b.id, (traded.get(b.id) ?? 0) + tr.energyWh);
    traded.set(s.id, (traded.get(s.id) ?? 0) + tr.energyWh);
    if (s.zone !== b.zone) exported.set(s.zone, (exported.get(s.zone) ?? 0) + tr.energyWh);
    volume += tr.energyWh;
    surplus += BigInt(tr.energyWh) * BigInt(t(b.price) - t(s.price) - fee);
  }
  assert.equal(r.matchedWh, volume, 'matchedWh = Σ trades');
  // Remainders: each order once, filled = what it traded, filled + netted + left = energy.
  assert.equal(r.remainders.length, orders.length);
  const seen = new Set<string>();
  const nettedBy = new Map<string, { bid: number; offer: number }>();
  let bought = 0;
  let sold = 0;
  for (const x of r.remainders) {
    const o = byId.get(x.order);
    assert.ok(o, `remainder for a known order ${x.order}`);
    assert.ok(!seen.has(x.order), `one remainder per order (${x.order})`);
    seen.add(x.order);
    assert.equal(x.side, o.side);
    assert.equal(x.filledWh, traded.get(o.id) ?? 0, `order ${o.id} filled = what it traded`);
    assert.ok(
      x.nettedWh === undefined || (Number.isSafeInteger(x.nettedWh) && x.nettedWh > 0),
      `order ${o.id} nettedWh is absent or a positive integer`,
    );
    assert.equal(
      x.filledWh + (x.nettedWh ?? 0) + x.leftWh,
      o.energyWh,
      `order ${o.id} filled + netted + left = energy`,
    );
    assert.ok(x.leftWh >= 0 && x.filledWh >= 0, `order ${o.id} never fills beyond its energy`);
    const n = nettedBy.get(o.participant) ?? { bid: 0, offer: 0 };
    n[o.side] += x.nettedWh ?? 0;
    nettedBy.set(o.participant, n);
    if (o.side === 'bid') bought += x.filledWh;
    else sold += x.filledWh;
  }
  for (const [p, n] of nettedBy)
    assert.equal(n.bid, n.offer, `participant ${p} netted as much of its bids as of its offers`);
  assert.equal(bought, volume, 'Σ bought = matched');
  assert.equal(sold, volume, 'Σ sold = matched');
  for (const [zone, wh] of exported) {
    const lim = rules.zoneExportLimitsWh[zone];
    if (lim !== undefined) assert.ok(wh <= lim, `zone ${zone} exports ${wh} ≤ its limit ${lim}`);
  }
  assert.equal(
    r.surplus,
    new Dec(surplus.toString())
      .mul(rules.priceTick)
      .div(1000)
      .toFixed(scale.decimals + 3),
    'surplus = Σ (bid − offer − fee) × kWh',
  );
  // Money: Σ buyers pay = Σ sellers receive + Σ fees (+ the McAfee operator's share, never negative).
  const m = intervalMoney(r);
  assert.ok(new Dec(m.buyersPay).eq(new Dec(m.sellersReceive).plus(m.fees).plus(m.operator)), 'money balances exactly');
  assert.ok(new Dec(m.operator).gte(0), 'never a deficit');
  if (rules.mechanism !== 'mcafee') assert.ok(new Dec(m.operator).eq(0), 'only McAfee leaves money with the operator');
  else assert.ok(new Dec(m.operator).eq(r.operatorSurplus ?? '0'), 'operatorSurplus = buyers − sellers − fees');
  if (rules.mechanism === 'uniform') {
    const bySellerZone = new Map<string, string>();
    for (const tr of r.trades) {
      const z = byId.get(tr.sellOrder)!.zone;
      assert.equal(bySellerZone.get(z) ?? tr.price, tr.price, 'one price per seller zone');
      bySellerZone.set(z, tr.price);
    }
  }
}

/**
 * The book the auction cleared: each order less what it netted against its
 * participant's own orders (self-net.ts), the fully netted ones gone. The
 * optimum is the optimum of this book: the netted energy is nobody's trade.
 */
export function nettedBook(orders: OrderInput[], res: ClearingResult): OrderInput[] {
  const netted = new Map(res.remainders.map((x) => [x.order, x.nettedWh ?? 0]));
  return orders.map((o) => ({ ...o, energyWh: o.energyWh - netted.get(o.id)! })).filter((o) => o.energyWh > 0);
}
