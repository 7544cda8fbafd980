import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { anvilWithCredits } from '../contracts/chain.js';
import { deployEnergyCredits } from '../../contracts/deploy.js';
import type { AnvilInstance } from '../../settlement/chain/anvil.js';
import { runAudit } from '../../audit/audit.js';
import { meterDataRulesOf } from '../../audit/meter-data-window.js';
import {
  ACCOUNT,
  INTERVAL,
  normalMinute,
  startHouseholds,
  T0,
  type HouseholdOptions,
  type Households,
} from './household.js';
import { creditsOnChain, mintSettled } from './credits-on-chain.js';

/**
 * The other SunSpec faults through metering, settlement and the chain: per
 * scenario the ledger's interval energies (status, method), the statements
 * and the credits read from anvil, exactly; and the audit passes.
 * (The glitch, the first of the faults, is glitch-to-chain.test.ts.)
 */

let anvil: AnvilInstance;
let clients: Awaited<ReturnType<typeof anvilWithCredits>>['clients'];
before(async () => {
  ({ anvil, clients } = await anvilWithCredits());
});
after(async () => {
  await anvil?.stop();
});

type Stmt = [number, string, number, number, number, number, string, string, string, string];
interface Case {
  name: string;
  opts: HouseholdOptions;
  lastMinute: number;
  intervals: number;
  script(h: Households, k: number): Promise<void>;
  /** [minute, meter, importWh, exportWh, status, method] of the grid meters. */
  energies: [number, string, number, number, string, string | null][];
  /** [minute, participant, bought, sold, gridImport, gridExport, paid, received, gridAmount, net]. */
  statements: Stmt[];
  /** Credits of h1 and h2 per interval, read from the chain. */
  credits: { h1: number[]; h2: number[] };
}

/** Interval with h1's 300 Wh actual and sold to h2, who buys 200 Wh more from the grid. */
const traded = (m: number, wh = 300): Stmt[] => [
  [m, 'h1', 0, wh, 0, 0, '0.00', '0.09', '0.00', '0.09'],
  [m, 'h2', wh, 0, 500 - wh, 0, '0.09', '0.00', '-0.06', '-0.15'],
];
/** Interval where h2 buys all 500 Wh from the grid and h1 is `h1`. */
const alone = (m: number, h1: Stmt): Stmt[] => [h1, [m, 'h2', 0, 0, 500, 0, '0.00', '0.00', '-0.15', '-0.15']];

const CASES: Case[] = [
  {
    name: "TotWh_SF 0 → 1 consistently: actual, traded, the change interval 3 Wh short by the meter's rounding",
    opts: { h1RatedPowerW: 5000, h1Counters: { imp: 1_000_004, exp: 500_003 } },
    lastMinute: 15,
    intervals: 3,
    script: async (h, k) => {
      if (k === 7) await h.sunspec.send('sf 1');
      await normalMinute(h, k);
    },
    energies: [
      [0, 'h1-grid', 0, 300, 'actual', null],
      [0, 'h2-grid', 500, 0, 'actual', null],
      [5, 'h1-grid', 0, 297, 'actual', null],
      [5, 'h2-grid', 500, 0, 'actual', null],
      [10, 'h1-grid', 0, 300, 'actual', null],
      [10, 'h2-grid', 500, 0, 'actual', null],
    ],
    statements: [
      ...traded(0),
      [5, 'h1', 0, 297, 0, 0, '0.00', '0.09', '0.00', '0.09'],
      [5, 'h2', 297, 0, 203, 0, '0.09', '0.00', '-0.06', '-0.15'],
      ...traded(10),
    ],
    credits: { h1: [0, 0, 0], h2: [300, 297, 300] },
  },
  {
    name: 'a counter reset to 0: both intervals it touches held (no statement energy, no credits), their values with the reset step estimated; the one before traded',
    opts: { h1RatedPowerW: 5000 },
    lastMinute: 15,
    intervals: 3,
    script: async (h, k) => {
      if (k === 7) await h.sunspec.send('reset');
      await normalMinute(h, k);
      if (k === 12) await h.sunspec.send('add imp=30');
    },
    energies: [
      [0, 'h1-grid', 0, 300, 'actual', null],
      [0, 'h2-grid', 500, 0, 'actual', null],
      [5, 'h1-grid', 20, 300, 'held', null],
      [5, 'h2-grid', 500, 0, 'actual', null],
      [10, 'h1-grid', 10, 300, 'held', null],
      [10, 'h2-grid', 500, 0, 'actual', null],
    ],
    statements: [
      ...traded(0),
      ...alone(5, [5, 'h1', 0, 0, 0, 0, '0.00', '0.00', '0.00', '0.00']),
      ...alone(10, [10, 'h1', 0, 0, 0, 0, '0.00', '0.00', '0.00', '0.00']),
    ],
    credits: { h1: [0, 0, 0], h2: [300, 0, 0] },
  },
  {
    name: 'offline for three intervals: the counters across the gap estimated by time onto the statements at the feed-in tariff, no credits; back actual',
    opts: { h1RatedPowerW: 5000 },
    lastMinute: 25,
    intervals: 5,
    script: async (h, k) => {
      if (k === 3) await h.sunspec.send('offline');
      if (k === 18) await h.sunspec.send('online');
      await normalMinute(h, k);
    },
    energies: [0, 5, 10, 15]
      .flatMap((m): [number, string, number, number, string, string | null][] => [
        [m, 'h1-grid', 0, 300, 'estimated', 'time-apportioned'],
        [m, 'h2-grid', 500, 0, 'actual', null],
      ])
      .concat([
        [20, 'h1-grid', 0, 300, 'actual', null],
        [20, 'h2-grid', 500, 0, 'actual', null],
      ]),
    statements: [
      ...[0, 5, 10, 15].flatMap((m) => alone(m, [m, 'h1', 0, 0, 0, 300, '0.00', '0.00', '0.02', '0.02'])),
      ...traded(20),
    ],
    credits: { h1: [0, 0, 0, 0, 0], h2: [0, 0, 0, 0, 300] },
  },
];

for (const c of CASES) {
  it(c.name, async () => {
    const admin = clients.wallet(0);
    const { address: contract } = await deployEnergyCredits({
      wallet: admin,
      publicClient: clients.public,
      admin: admin.account.address,
      settler: admin.account.address,
      evm: 'default',
    });
    const h = await startHouseholds(c.opts);
    try {
      await h.run(0, c.lastMinute, (k) => c.script(h, k));
      const starts = Array.from({ length: c.intervals }, (_, i) => T0 + i * INTERVAL);
      for (const s of starts) h.sc.meterAndSettle(s);
      const energies = (
        h.sc.ledger.db
          .prepare(
            "SELECT interval_start AS s, meter_id AS m, import_wh AS i, export_wh AS x, status, method FROM interval_energy WHERE meter_id != 'h1-pv' ORDER BY interval_start, meter_id",
          )
          .all() as { s: number; m: string; i: number; x: number; status: string; method: string | null }[]
      ).map((r) => [(r.s - T0) / 60_000, r.m, r.i, r.x, r.status, r.method]);
      assert.deepEqual(energies, c.energies);
      const statements = starts
        .flatMap((s) => h.sc.statements(s))
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
      assert.deepEqual(statements, c.statements);
      await mintSettled(h.sc.ledger, anvil.rpcUrl, contract);
      assert.deepEqual(await creditsOnChain(anvil.rpcUrl, contract, [ACCOUNT.h1, ACCOUNT.h2], starts), {
        [ACCOUNT.h1]: c.credits.h1,
        [ACCOUNT.h2]: c.credits.h2,
      });
      const r = await runAudit({
        ledger: h.sc.ledger,
        rpcUrl: anvil.rpcUrl,
        contract,
        from: T0,
        to: T0 + c.intervals * INTERVAL,
        intervalMs: INTERVAL,
        tariffs: {
          feedInTariff: h.sc.config.market.feedInTariff,
          retailTariff: h.sc.config.market.retailTariff,
          minorUnits: h.sc.config.microgrid.currencyMinorUnits,
        },
        meterData: meterDataRulesOf(h.sc.config),
      });
      assert.deepEqual(
        r.intervals.flatMap((i) => i.checks.flatMap((x) => x.failures)),
        [],
      );
      assert.equal(r.passed, c.intervals);
    } finally {
      await h.close();
    }
  });
}
