import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Dec } from '../../core/units.js';
import { buildStatements, type BuildStatementsInput, type StatementAdjustment } from '../../settlement/statements.js';
import type { DeliveredTrade } from '../../settlement/delivery.js';
import type { MeterDataSummary } from '../../settlement/inputs.js';
import { exactDecimals, integerStatements, toFixed } from '../../audit/integer-statements.js';
import { fcParams } from '../helpers/fc.js';

const PARTICIPANTS = ['h01', 'h02', 'h03', 'h04', 'h05', 'ü'];
/** Prices of up to 5 decimals, some negative, some with trailing zeros: what buildStatements is handed. */
const price = fc
  .tuple(fc.integer({ min: -2_000, max: 600_000 }), fc.integer({ min: 0, max: 5 }))
  .map(([n, d]) => new Dec(n).div(10 ** d).toFixed(d));
const wh = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 50_000 }), fc.constant(2 ** 40 + 7));

const trade = fc
  .record({
    buyer: fc.constantFrom(...PARTICIPANTS),
    seller: fc.constantFrom(...PARTICIPANTS),
    energyWh: wh,
    cut: fc.nat(),
    price,
    fee: price,
    mcafee: fc.option(price, { nil: undefined }),
    kind: fc.constantFrom('forward' as const, 'metered' as const),
    seq: fc.nat({ max: 50 }),
  })
  .map((t): DeliveredTrade => ({
    buyOrder: `b-${t.buyer}-${t.seq}`,
    sellOrder: `s-${t.seller}-${t.seq}`,
    buyer: t.buyer,
    seller: t.seller,
    energyWh: t.energyWh,
    deliveredWh: t.energyWh === 0 ? 0 : t.cut % (t.energyWh + 1),
    price: t.price,
    fee: t.fee,
    ...(t.mcafee !== undefined ? { buyerPrice: t.mcafee } : {}),
    kind: t.kind,
    seq: t.seq,
  }));

const summary = fc
  .constantFrom<MeterDataSummary['status']>('actual', 'estimated', 'partial', 'held')
  .map((status): MeterDataSummary => ({
    status,
    meters: [{ meterId: 'm', status, reasons: [], method: null, importWh: 1, exportWh: 2 }],
  }));

const input = fc.integer({ min: 0, max: 4 }).chain((minorUnits) =>
  fc
    .record({
      trades: fc.array(trade, { maxLength: 12 }),
      energy: fc.dictionary(fc.constantFrom(...PARTICIPANTS), fc.record({ importWh: wh, exportWh: wh })),
      meterData: fc.dictionary(fc.constantFrom(...PARTICIPANTS), summary),
      adjustments: fc.dictionary(
        fc.constantFrom(...PARTICIPANTS),
        fc.array(fc.integer({ min: -100_000, max: 100_000 }), { minLength: 1, maxLength: 2 }),
        { maxKeys: 2 },
      ),
      feedInTariff: price,
      retailTariff: price,
    })
    .map((x): BuildStatementsInput => ({
      interval: '2027-01-01T00:00:00.000Z',
      trades: x.trades,
      energy: new Map(Object.entries(x.energy)),
      meterData: new Map(Object.entries(x.meterData)),
      adjustments: new Map(
        Object.entries(x.adjustments).map(([p, amounts]) => [
          p,
          amounts.map((a): StatementAdjustment => ({
            interval: '2026-12-31T23:45:00.000Z',
            meterId: `${p}-grid`,
            decision: 'accept',
            status: 'actual',
            importWh: 0,
            exportWh: 0,
            gridImportWh: 0,
            gridExportWh: 0,
            amount: new Dec(a).div(10 ** minorUnits).toFixed(minorUnits),
            by: 'operator',
            reason: 'test',
          })),
        ]),
      ),
      tariffs: { feedInTariff: x.feedInTariff, retailTariff: x.retailTariff, minorUnits },
    })),
);

it('check 5’s integer statements equal settlement’s buildStatements (decimal.js), field for field', () => {
  let compared = 0;
  fc.assert(
    fc.property(input, (inp) => {
      let reference;
      try {
        reference = buildStatements(inp);
      } catch {
        // buildStatements refuses (does not balance): the integer version must not produce statements either.
        assert.equal(integerStatements(inp), undefined);
        return;
      }
      const integer = integerStatements(inp);
      assert.ok(integer, 'plain decimals and safe Wh: the integer version must not decline');
      assert.deepEqual(integer, reference);
      compared++;
    }),
    fcParams('integer statements = buildStatements', { numRuns: 1_500 }),
  );
  assert.ok(compared > 1_000, `${compared} inputs compared`);
});

it('check 5’s integer statements decline what they do not read: a price in exponent notation, a fractional Wh', () => {
  const t: DeliveredTrade = {
    buyOrder: 'b',
    sellOrder: 's',
    buyer: 'h01',
    seller: 'h02',
    energyWh: 10,
    deliveredWh: 10,
    price: '0.12',
    fee: '0',
    kind: 'metered',
    seq: 0,
  };
  const base: BuildStatementsInput = {
    interval: '2027-01-01T00:00:00.000Z',
    trades: [t],
    energy: new Map(),
    tariffs: { feedInTariff: '0.05', retailTariff: '0.30', minorUnits: 2 },
  };
  assert.ok(integerStatements(base));
  assert.equal(integerStatements({ ...base, trades: [{ ...t, price: '1.2e-1' }] }), undefined);
  assert.equal(integerStatements({ ...base, trades: [{ ...t, deliveredWh: 2.5 }] }), undefined);
  assert.equal(integerStatements({ ...base, tariffs: { ...base.tariffs, retailTariff: '.3' } }), undefined);
});

it('check 5’s exact sums print as decimal.js’s toFixed: half to even, "-" below zero, also for a value that rounds to zero', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc
          .tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 0, max: 6 }))
          .map(([n, d]) => new Dec(n).div(10 ** d).toFixed(d)),
        { maxLength: 8 },
      ),
      fc.integer({ min: 0, max: 4 }),
      (strings, d) => {
        const exact = exactDecimals(strings)!;
        const sum = exact.values.reduce((a, b) => a + b, 0n);
        const reference = strings.reduce((a, s) => a.plus(s), new Dec(0));
        assert.equal(toFixed(sum, exact.scale, d), reference.toFixed(d));
      },
    ),
    fcParams('exact sums = decimal.js toFixed', { numRuns: 1_000 }),
  );
  assert.equal(exactDecimals(['1.5', '1e3']), undefined);
});
