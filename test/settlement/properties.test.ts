import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fcParams } from '../helpers/fc.js';
import { deliver, type IntervalTrade, type MeteredEnergy } from '../../settlement/delivery.js';
import { buildStatements } from '../../settlement/statements.js';
import { computeCredits } from '../../settlement/credits.js';
import { derivedAccount } from '../../settlement/accounts.js';
import { Dec } from '../../core/units.js';

const IDS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'];
const price = fc.integer({ min: 0, max: 5000 }).map((t) => (t / 10000).toFixed(4));

/**
 * A random interval: metered energy per participant, metered trades within each seller's export, forward trades
 * anywhere.
 */
const intervalArb = fc
  .record({
    energy: fc.array(
      fc.record({ importWh: fc.integer({ min: 0, max: 20_000 }), exportWh: fc.integer({ min: 0, max: 20_000 }) }),
      { minLength: IDS.length, maxLength: IDS.length },
    ),
    metered: fc.array(
      fc.record({
        buyer: fc.constantFrom(...IDS),
        seller: fc.constantFrom(...IDS),
        share: fc.double({ min: 0, max: 1, noNaN: true }),
        price,
        fee: price,
      }),
      { maxLength: 12 },
    ),
    forward: fc.array(
      fc.record({
        buyer: fc.constantFrom(...IDS),
        seller: fc.constantFrom(...IDS),
        wh: fc.integer({ min: 1, max: 15_000 }),
        price,
        fee: price,
        margin: fc.option(price, { nil: undefined }),
      }),
      { maxLength: 12 },
    ),
    hasMeter: fc.array(fc.boolean(), { minLength: IDS.length, maxLength: IDS.length }),
  })
  .map(({ energy, metered, forward, hasMeter }) => {
    const e = new Map<string, MeteredEnergy>();
    IDS.forEach((id, i) => {
      if (hasMeter[i]) e.set(id, energy[i]!);
    });
    const left = new Map([...e].map(([id, v]) => [id, v.exportWh]));
    const trades: IntervalTrade[] = [];
    for (const m of metered) {
      const wh = Math.floor((left.get(m.seller) ?? 0) * m.share);
      if (wh <= 0 || m.buyer === m.seller) continue;
      left.set(m.seller, (left.get(m.seller) ?? 0) - wh);
      trades.push({
        kind: 'metered',
        seq: trades.length,
        buyOrder: `b${trades.length}`,
        sellOrder: `s${trades.length}`,
        buyer: m.buyer,
        seller: m.seller,
        energyWh: wh,
        price: m.price,
        fee: m.fee,
      });
    }
    forward.forEach((f, seq) => {
      if (f.buyer === f.seller) return;
      const t: IntervalTrade = {
        kind: 'forward',
        seq,
        buyOrder: `fb${seq}`,
        sellOrder: `fs${seq}`,
        buyer: f.buyer,
        seller: f.seller,
        energyWh: f.wh,
        price: f.price,
        fee: f.fee,
      };
      // McAfee: the buyer pays buyerPrice ≥ price + fee, the difference to the operator
      if (f.margin !== undefined) t.buyerPrice = new Dec(f.price).plus(f.fee).plus(f.margin).toFixed(4);
      trades.push(t);
    });
    return { energy: e, trades };
  });

it('credits: Σ credits = Σ metered export, buyers get what was delivered, every credit positive', () => {
  fc.assert(
    fc.property(intervalArb, ({ energy, trades }) => {
      const delivered = deliver('2027-01-15T08:00Z', trades, energy);
      const credits = computeCredits('2027-01-15T08:00Z', delivered, energy, derivedAccount);
      const exportWh = [...energy.values()].reduce((s, e) => s + e.exportWh, 0);
      assert.equal(
        credits.reduce((s, c) => s + c.wh, 0),
        exportWh,
      );
      assert.ok(credits.every((c) => c.wh > 0 && Number.isSafeInteger(c.wh)));
      // each buyer holds at least the delivered energy it bought
      for (const id of IDS) {
        const bought = delivered.filter((t) => t.buyer === id).reduce((s, t) => s + t.deliveredWh, 0);
        const held = credits.find((c) => c.account === derivedAccount(id))?.wh ?? 0;
        assert.ok(held >= bought, `${id} holds ${held} < bought ${bought}`);
      }
    }),
    fcParams('credits = export', { numRuns: 300 }),
  );
});

it('delivery: metered trades as cleared; forward sales cut pro rata to what the seller had left, never more', () => {
  fc.assert(
    fc.property(intervalArb, ({ energy, trades }) => {
      const delivered = deliver('2027-01-15T08:00Z', trades, energy);
      for (const t of delivered) {
        assert.ok(t.deliveredWh >= 0 && t.deliveredWh <= t.energyWh);
        if (t.kind === 'metered') assert.equal(t.deliveredWh, t.energyWh);
      }
      for (const id of IDS) {
        const exp = energy.get(id)?.exportWh ?? 0;
        const metered = delivered
          .filter((t) => t.seller === id && t.kind === 'metered')
          .reduce((s, t) => s + t.energyWh, 0);
        const fwd = delivered.filter((t) => t.seller === id && t.kind === 'forward');
        const sold = fwd.reduce((s, t) => s + t.energyWh, 0);
        const got = fwd.reduce((s, t) => s + t.deliveredWh, 0);
        assert.equal(got, Math.min(sold, exp - metered));
        // pro rata: each within 1 Wh of its exact share
        for (const t of fwd) if (sold > 0) assert.ok(Math.abs(t.deliveredWh - (t.energyWh * got) / sold) < 1);
      }
    }),
    fcParams('delivery pro rata', { numRuns: 300 }),
  );
});

it('statements: every interval balances to the cent, each amount within a cent of exact, energy adds up', () => {
  fc.assert(
    fc.property(intervalArb, fc.constantFrom(0, 2, 3), ({ energy, trades }, minorUnits) => {
      const delivered = deliver('2027-01-15T08:00Z', trades, energy);
      const st = buildStatements({
        interval: '2027-01-15T08:00Z',
        trades: delivered,
        energy,
        tariffs: { feedInTariff: '0.0800', retailTariff: '0.3000', minorUnits },
      });
      const sum = (f: (s: (typeof st)[number]) => string) => st.reduce((a, s) => a.plus(f(s)), new Dec(0));
      assert.ok(sum((s) => s.paid).eq(sum((s) => s.received)), 'Σ paid = Σ received');
      assert.ok(sum((s) => s.net).eq(sum((s) => s.gridAmount).minus(sum((s) => s.fees))));
      const unit = new Dec(1).div(new Dec(10).pow(minorUnits));
      for (const s of st) {
        const exactPaid = delivered
          .filter((t) => t.buyer === s.participant)
          .reduce((a, t) => a.plus(new Dec(t.deliveredWh).mul(t.price).div(1000)), new Dec(0));
        assert.ok(new Dec(s.paid).minus(exactPaid).abs().lt(unit), `${s.participant} paid ${s.paid} vs ${exactPaid}`);
        const exactFees = delivered
          .filter((t) => t.buyer === s.participant)
          .reduce(
            (a, t) =>
              a.plus(
                new Dec(t.deliveredWh)
                  .mul(t.buyerPrice === undefined ? t.fee : new Dec(t.buyerPrice).minus(t.price))
                  .div(1000),
              ),
            new Dec(0),
          );
        assert.ok(new Dec(s.fees).minus(exactFees).abs().lt(unit), `${s.participant} fees ${s.fees} vs ${exactFees}`);
        const e = energy.get(s.participant) ?? { importWh: 0, exportWh: 0 };
        assert.equal(
          s.soldWh + s.gridExportWh - s.boughtWh - s.gridImportWh,
          e.exportWh - e.importWh,
          'energy balance',
        );
        assert.equal(new Dec(s.paid).decimalPlaces() <= minorUnits, true);
      }
    }),
    fcParams('statements balance', { numRuns: 300 }),
  );
});
