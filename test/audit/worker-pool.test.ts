import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Address } from 'viem';
import { startWorkers } from '../../audit/worker-pool.js';
import { MicrogridError } from '../../core/errors.js';
import type { AnvilInstance } from '../../settlement/chain/anvil.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { Config } from '../../core/config/schema.js';
import { runAudit } from '../../audit/audit.js';
import { meterDataRulesOf } from '../../audit/meter-data-window.js';
import { tempDir } from '../helpers/tmp.js';
import { anvilWithCredits } from '../contracts/chain.js';
import { buildLedger, submitAll, T0, STEP } from './fixture.js';

const tariffs = { feedInTariff: '0.08', retailTariff: '0.30', minorUnits: 2 };
const N = 6;
let anvil: AnvilInstance;
let contract: Address;
let ledger: Ledger;
let config: Config;
let ledgerPath: string;
let starts: number[];

before(async () => {
  ({ anvil, address: contract } = await anvilWithCredits());
  ({
    ledger,
    config,
    path: ledgerPath,
    starts,
  } = await buildLedger(tempDir(), { intervals: N, households: 4, seed: 5 }));
  await submitAll(ledger, anvil.rpcUrl, contract);
});
after(async () => {
  ledger?.close();
  await anvil?.stop();
});

it('a worker that cannot open its ledger fails the audit with the ledger error as the cause (not an unhandled pool error)', async () => {
  const pool = startWorkers(
    {
      ledgerPath: '/nonexistent/ledger.sqlite',
      rpcUrl: 'http://127.0.0.1:1',
      contract: `0x${'0'.repeat(40)}`,
      intervalMs: 900_000,
      tariffs,
    },
    2,
  );
  try {
    await assert.rejects(pool.audit([Date.UTC(2027, 0, 1)], new Map()), (e: Error) => {
      assert.match(e.message, /audit worker/);
      assert.equal((e.cause as MicrogridError).code, 'LEDGER_OPEN');
      return true;
    });
  } finally {
    await pool.stop();
  }
});

it('a worker that fails on its run (the chain RPC gone) fails the audit naming the run, with the worker’s error and its message', async () => {
  const pool = startWorkers(
    {
      ledgerPath,
      rpcUrl: 'http://127.0.0.1:1',
      contract,
      intervalMs: STEP,
      tariffs,
      meterData: meterDataRulesOf(config),
    },
    2,
  );
  try {
    await assert.rejects(pool.audit(starts, new Map()), (e: Error) => {
      assert.match(
        e.message,
        /^an audit worker failed on the 6 intervals from .*: --rpc: the chain RPC failed: balanceOfBatch/,
      );
      assert.match((e.cause as Error).message, /^--rpc: the chain RPC failed: balanceOfBatch/);
      // The worker's code crosses the thread: the CLI prints `[CHAIN_UNAVAILABLE]` and exits 1, not "unexpected error".
      assert.ok(e instanceof MicrogridError, `a ${e.constructor.name}, not a MicrogridError`);
      assert.equal(e.code, 'CHAIN_UNAVAILABLE');
      return true;
    });
  } finally {
    await pool.stop();
  }
});

it('two worker threads report progress as the in-process audit does: rising, never past the total, ending at it', async () => {
  const progress: [number, number][] = [];
  const r = await runAudit({
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
    workers: 2,
    onProgress: (done, total) => progress.push([done, total]),
  });
  assert.ok(r.pass);
  assert.ok(progress.length >= 2, JSON.stringify(progress));
  assert.deepEqual(progress.at(-1), [N, N]);
  for (const [i, [done, total]] of progress.entries()) {
    assert.equal(total, N);
    assert.ok(done <= total && done >= (progress[i - 1]?.[0] ?? 0), JSON.stringify(progress));
  }
});
