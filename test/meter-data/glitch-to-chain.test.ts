import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Address } from 'viem';
import { anvilWithCredits } from '../contracts/chain.js';
import { deployEnergyCredits } from '../../contracts/deploy.js';
import type { AnvilInstance } from '../../settlement/chain/anvil.js';
import { runAudit } from '../../audit/audit.js';
import { meterDataRulesOf } from '../../audit/meter-data-window.js';
import type { AuditReport } from '../../audit/types.js';
import { ACCOUNT, INTERVAL, normalMinute, startHouseholds, T0, type Households } from './household.js';
import { creditsOnChain, mintSettled } from './credits-on-chain.js';
import type { Scenario } from './scenario.js';

/**
 * The issue's glitch, replayed through every real part: the SunSpec peer's
 * TotWh_SF goes 0 → 1 for two polls with the raw counters unchanged; the
 * bridge reads it from the operator's config, signs it into the ledger; the
 * metering step validates, clears and settles; the Submitter commits and
 * mints on anvil; `mgx audit`'s runAudit checks it all — and then the same
 * held interval forced into credits in a doctored ledger and on chain.
 */

let anvil: AnvilInstance;
let contract: Address;
let clients: Awaited<ReturnType<typeof anvilWithCredits>>['clients'];
before(async () => {
  ({ anvil, address: contract, clients } = await anvilWithCredits());
});
after(async () => {
  await anvil?.stop();
});

const STARTS = [0, 1, 2].map((i) => T0 + i * INTERVAL);

async function glitchDay(): Promise<Households> {
  const h = await startHouseholds({ h1RatedPowerW: 5000 });
  try {
    await h.run(0, 15, async (k) => {
      if (k === 7) await h.sunspec.send('glitch 1');
      if (k === 9) await h.sunspec.send('unglitch');
      await normalMinute(h, k);
    });
  } catch (e) {
    await h.close();
    throw e;
  }
  return h;
}

const audit = (sc: Scenario, at: Address): Promise<AuditReport> =>
  runAudit({
    ledger: sc.ledger,
    rpcUrl: anvil.rpcUrl,
    contract: at,
    from: T0,
    to: T0 + 3 * INTERVAL,
    intervalMs: INTERVAL,
    tariffs: {
      feedInTariff: sc.config.market.feedInTariff,
      retailTariff: sc.config.market.retailTariff,
      minorUnits: sc.config.microgrid.currencyMinorUnits,
    },
    meterData: meterDataRulesOf(sc.config),
  });

const energies = (sc: Scenario) =>
  (
    sc.ledger.db
      .prepare(
        'SELECT interval_start AS s, meter_id AS m, import_wh AS i, export_wh AS x, status, method, reasons FROM interval_energy ORDER BY interval_start, meter_id',
      )
      .all() as {
      s: number;
      m: string;
      i: number;
      x: number;
      status: string;
      method: string | null;
      reasons: string;
    }[]
  ).map((r) => [
    (r.s - T0) / 60_000,
    r.m,
    r.i,
    r.x,
    r.status,
    r.method,
    (JSON.parse(r.reasons) as { code: string }[]).map((x) => x.code),
  ]);

const statements = (sc: Scenario) =>
  STARTS.flatMap((s) => sc.statements(s))
    .sort((a, b) => a.intervalStart - b.intervalStart || (a.participantId < b.participantId ? -1 : 1))
    .map((t) => [
      (t.intervalStart - T0) / 60_000,
      t.participantId,
      t.boughtWh,
      t.soldWh,
      t.gridImportWh,
      t.gridExportWh,
      t.paid,
      t.received,
      t.gridAmount,
      t.net,
    ]);

it('the glitch interval is held with its reason, the next one actual to the Wh, no credit beyond what the meter measured, and the audit passes', async () => {
  const h = await glitchDay();
  try {
    for (const s of STARTS) h.sc.meterAndSettle(s);
    assert.deepEqual(energies(h.sc), [
      [0, 'h1-grid', 0, 300, 'actual', null, []],
      [0, 'h1-pv', 0, 400, 'actual', null, []],
      [0, 'h2-grid', 500, 0, 'actual', null, []],
      [5, 'h1-grid', 0, 300, 'held', null, ['VEE_SCALE_FACTOR_GLITCH', 'VEE_SCALE_FACTOR_GLITCH', 'VEE_GAP']],
      [5, 'h1-pv', 0, 400, 'actual', null, []],
      [5, 'h2-grid', 500, 0, 'actual', null, []],
      [10, 'h1-grid', 0, 300, 'actual', null, []],
      [10, 'h1-pv', 0, 400, 'actual', null, []],
      [10, 'h2-grid', 500, 0, 'actual', null, []],
    ]);
    const reasons = JSON.parse(
      (
        h.sc.ledger.db
          .prepare("SELECT reasons FROM interval_energy WHERE meter_id = 'h1-grid' AND interval_start = ?")
          .get(STARTS[1]) as { reasons: string }
      ).reasons,
    ) as { message: string }[];
    assert.match(
      reasons[0]!.message,
      /importWh read 10001230 Wh at 2027-03-10T10:07:00.000Z, ×10\^1 of the trusted 1000123 Wh/,
    );
    // The operator's queue holds it, undecided.
    assert.deepEqual(
      (
        h.sc.ledger.db.prepare('SELECT interval_start AS s, meter_id AS m, decision FROM meter_data_holds').all() as {
          s: number;
          m: string;
          decision: string | null;
        }[]
      ).map((r) => [(r.s - T0) / 60_000, r.m, r.decision]),
      [[5, 'h1-grid', null]],
    );
    // Statements: h1's held interval settles neither way; h2 buys h1's 300 Wh when h1's data is actual.
    assert.deepEqual(statements(h.sc), [
      [0, 'h1', 0, 300, 0, 0, '0.00', '0.09', '0.00', '0.09'],
      [0, 'h2', 300, 0, 200, 0, '0.09', '0.00', '-0.06', '-0.15'],
      [5, 'h1', 0, 0, 0, 0, '0.00', '0.00', '0.00', '0.00'],
      [5, 'h2', 0, 0, 500, 0, '0.00', '0.00', '-0.15', '-0.15'],
      [10, 'h1', 0, 300, 0, 0, '0.00', '0.09', '0.00', '0.09'],
      [10, 'h2', 300, 0, 200, 0, '0.09', '0.00', '-0.06', '-0.15'],
    ]);
    await mintSettled(h.sc.ledger, anvil.rpcUrl, contract);
    // Credits on chain: the matched 300 Wh to the buyer, none for the held interval.
    assert.deepEqual(await creditsOnChain(anvil.rpcUrl, contract, [ACCOUNT.h1, ACCOUNT.h2], STARTS), {
      [ACCOUNT.h1]: [0, 0, 0],
      [ACCOUNT.h2]: [300, 0, 300],
    });
    const r = await audit(h.sc, contract);
    assert.deepEqual(
      r.intervals.flatMap((i) => i.checks.flatMap((c) => c.failures)),
      [],
    );
    assert.equal(r.passed, 3);
    assert.equal(r.intervals[1]!.checks.find((c) => c.check === 'energy')!.figures.held, 1);
  } finally {
    await h.close();
  }
});

it('the held interval forced into credits in a doctored ledger and on chain is caught, naming interval, meter, rule and numbers', async () => {
  const admin = clients.wallet(0);
  // A second contract: the first one holds the clean run's commitments for the same intervals.
  const { address: second } = await deployEnergyCredits({
    wallet: admin,
    publicClient: clients.public,
    admin: admin.account.address,
    settler: admin.account.address,
    evm: 'default',
  });
  const h = await glitchDay();
  try {
    h.sc.meterAndSettle(STARTS[0]!);
    h.sc.meter(STARTS[1]!);
    // The doctoring: the held glitch energy rewritten as actual, as the ledger had it, and the hold dropped.
    h.sc.ledger.db
      .prepare(
        "UPDATE interval_energy SET status = 'actual', reasons = '[]', quality = 'good', import_wh = 9001107, export_wh = 4500963 WHERE meter_id = 'h1-grid' AND interval_start = ?",
      )
      .run(STARTS[1]);
    h.sc.ledger.db.prepare('DELETE FROM meter_data_holds').run();
    h.sc.settle(STARTS[1]!);
    h.sc.meterAndSettle(STARTS[2]!);
    await mintSettled(h.sc.ledger, anvil.rpcUrl, second);
    assert.deepEqual(await creditsOnChain(anvil.rpcUrl, second, [ACCOUNT.h1], [STARTS[1]!]), {
      [ACCOUNT.h1]: [4_500_963],
    });

    const r = await audit(h.sc, second);
    assert.equal(r.pass, false);
    const f = r.intervals.find((i) => i.tokenId === STARTS[1]! / 1000)!.checks.flatMap((c) => c.failures);
    const energy = f.filter((x) => x.check === 'energy');
    assert.deepEqual(
      energy.map((x) => [x.interval, x.record, x.message]),
      [
        [
          '2027-03-10T10:05:00Z',
          'meter h1-grid rule VEE_SCALE_FACTOR_GLITCH, VEE_GAP',
          'the ledger settled energy that the meter-data rules reject',
        ],
      ],
    );
    assert.match(
      energy[0]!.expected!,
      /^held, import 0 Wh, export 300 Wh: VEE_SCALE_FACTOR_GLITCH importWh read 10001230 Wh at 2027-03-10T10:07:00.000Z, ×10\^1 of the trusted 1000123 Wh/,
    );
    assert.equal(energy[0]!.found, 'actual, import 9001107 Wh, export 4500963 Wh');
    const credits = f.filter((x) => x.check === 'credits');
    assert.ok(
      credits.some(
        (x) =>
          x.record.toLowerCase() === `recipient ${ACCOUNT.h1}` && x.found === '4500963 Wh' && x.expected === '0 Wh',
      ),
      JSON.stringify(credits),
    );
    assert.ok(
      f.some((x) => x.check === 'statements' && x.record.startsWith('statement of h1')),
      JSON.stringify(f),
    );
    // The other intervals pass.
    assert.deepEqual(
      r.intervals.filter((i) => i.pass).map((i) => i.interval),
      ['2027-03-10T10:00:00Z', '2027-03-10T10:10:00Z'],
    );
  } finally {
    await h.close();
  }
});
