import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Address } from 'viem';
import { tempDir } from '../helpers/tmp.js';
import { anvilWithCredits } from '../contracts/chain.js';
import type { AnvilInstance } from '../../settlement/chain/anvil.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { Config } from '../../core/config/schema.js';
import { listTrades } from '../../ledger/clearing.js';
import { runAudit } from '../../audit/audit.js';
import { meterDataRulesOf } from '../../audit/meter-data-window.js';
import type { AuditFailure, AuditReport } from '../../audit/types.js';
import { buildLedger, submitAll, T0, STEP } from './fixture.js';

/**
 * The `trades` table is what households' trade lists read (ledger/clearing.ts
 * listTrades). It is stored beside the canonical ClearingResult, so an audit
 * that re-runs only the result would not see a row deleted, added or changed
 * there: before this check, deleting one row passed 6 of 6 intervals.
 */
let anvil: AnvilInstance;
let contract: Address;
let ledger: Ledger;
let config: Config;
const dataDir = tempDir();
const N = 5;

before(async () => {
  ({ anvil, address: contract } = await anvilWithCredits());
  ({ ledger, config } = await buildLedger(dataDir, { intervals: N, households: 8, seed: 23 }));
  await submitAll(ledger, anvil.rpcUrl, contract);
});
after(async () => {
  ledger?.close();
  await anvil?.stop();
});

const audit = (): Promise<AuditReport> =>
  runAudit({
    ledger,
    rpcUrl: anvil.rpcUrl,
    contract,
    from: T0,
    to: T0 + N * STEP,
    intervalMs: STEP,
    tariffs: {
      feedInTariff: config.market.feedInTariff,
      retailTariff: config.market.retailTariff,
      minorUnits: config.microgrid.currencyMinorUnits,
    },
    meterData: meterDataRulesOf(config),
  });
const iso = (k: number) => new Date(T0 + k * STEP).toISOString().replace('.000Z', 'Z');
const failuresOf = (r: AuditReport, k: number): AuditFailure[] =>
  r.intervals.find((i) => i.interval === iso(k))!.checks.flatMap((c) => c.failures);

it('a deleted, an added and a changed trades row are each caught, naming interval, check and record', async () => {
  const clean = await audit();
  assert.equal(clean.passed, N, JSON.stringify(clean.intervals.flatMap((i) => i.checks.flatMap((c) => c.failures))));
  for (let k = 0; k < 3; k++)
    assert.ok(listTrades(ledger, { start: T0 + k * STEP }).length >= 2, `interval ${k} has at least two trades`);

  // interval 0: one row deleted (what a household's trade list reads loses a trade)
  ledger.db.prepare("DELETE FROM trades WHERE interval_start = ? AND kind = 'metered' AND seq = 1").run(T0);
  // interval 1: a row added that the clearing never produced
  const t = listTrades(ledger, { start: T0 + STEP }).find((x) => x.seq === 0)!;
  const extra = listTrades(ledger, { start: T0 + STEP }).length;
  ledger.db
    .prepare(
      'INSERT INTO trades (interval_start, kind, seq, buyer_order, seller_order, buyer, seller, energy_wh, price, fee) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    .run(T0 + STEP, 'metered', extra, t.buyOrder, t.sellOrder, t.buyer, t.seller, 100, t.price, t.fee);
  // interval 2: a row's energy changed
  const changed = listTrades(ledger, { start: T0 + 2 * STEP }).find((x) => x.seq === 0)!;
  ledger.db
    .prepare("UPDATE trades SET energy_wh = energy_wh + 10 WHERE interval_start = ? AND kind = 'metered' AND seq = 0")
    .run(T0 + 2 * STEP);

  const r = await audit();
  assert.equal(r.pass, false);
  assert.equal(r.passed, N - 3);
  const f0 = failuresOf(r, 0).filter((f) => f.check === 'clearing');
  assert.deepEqual(
    f0.map((f) => [f.interval, f.check, f.record, f.found]),
    [[iso(0), 'clearing', 'trades row metered seq 1', 'no row']],
    JSON.stringify(f0),
  );
  const f1 = failuresOf(r, 1).filter((f) => f.check === 'clearing');
  assert.deepEqual(
    f1.map((f) => [f.interval, f.check, f.record, f.expected]),
    [[iso(1), 'clearing', `trades row metered seq ${extra}`, 'no row']],
    JSON.stringify(f1),
  );
  const f2 = failuresOf(r, 2).filter((f) => f.check === 'clearing');
  assert.equal(f2.length, 1, JSON.stringify(f2));
  assert.equal(f2[0]!.record, 'trades row metered seq 0 (energyWh)');
  assert.equal(f2[0]!.expected, `${changed.energyWh}`);
  assert.equal(f2[0]!.found, `${changed.energyWh + 10}`);
  // the other checks of those intervals are untouched: the rows are the only thing changed
  for (const k of [0, 1, 2])
    assert.deepEqual(
      failuresOf(r, k).filter((f) => f.check !== 'clearing'),
      [],
    );
  for (const k of [3, 4]) assert.equal(r.intervals.find((i) => i.interval === iso(k))!.pass, true);
});
