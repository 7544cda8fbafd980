import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Address } from 'viem';
import { tempDir } from '../helpers/tmp.js';
import { writeConfigFile } from './config-file.js';
import { runMgx } from '../helpers/mgx-process.js';
import { anvilWithCredits, abi } from '../contracts/chain.js';
import type { AnvilInstance } from '../../settlement/chain/anvil.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { Config } from '../../core/config/schema.js';
import { buildCreditChunks } from '../../settlement/chain/commitment.js';
import { runAudit } from '../../audit/audit.js';
import { meterDataRulesOf } from '../../audit/meter-data-window.js';
import type { AuditReport } from '../../audit/types.js';
import { auditConfig, buildLedger, submitAll, T0, STEP } from './fixture.js';

let anvil: AnvilInstance;
let contract: Address;
let clients: Awaited<ReturnType<typeof anvilWithCredits>>['clients'];
let ledger: Ledger;
let config: Config;
const dataDir = tempDir();
const configFile = (): string => writeConfigFile(dataDir, auditConfig());
const N = 4;

before(async () => {
  ({ anvil, address: contract, clients } = await anvilWithCredits());
  ({ ledger, config } = await buildLedger(dataDir, { intervals: N, households: 8, seed: 11 }));
  await submitAll(ledger, anvil.rpcUrl, contract);
});
after(async () => {
  ledger?.close();
  await anvil?.stop();
});

const audit = (workers?: number): Promise<AuditReport> =>
  runAudit({
    ...(workers ? { workers } : {}),
    ledger,
    rpcUrl: anvil.rpcUrl,
    contract,
    from: T0,
    to: T0 + (N + 2) * STEP,
    intervalMs: STEP,
    tariffs: {
      feedInTariff: config.market.feedInTariff,
      retailTariff: config.market.retailTariff,
      minorUnits: config.microgrid.currencyMinorUnits,
    },
    meterData: meterDataRulesOf(config),
  });

const iso = (k: number) => new Date(T0 + k * STEP).toISOString().replace('.000Z', 'Z');

it('a clean month passes every check, with the numbers', async () => {
  const r = await audit();
  const failures = r.intervals.flatMap((i) => i.checks.flatMap((c) => c.failures));
  assert.deepEqual(failures, []);
  assert.equal(r.intervals.length, N);
  assert.ok(r.pass);
  for (const i of r.intervals) {
    assert.deepEqual(
      i.checks.map((c) => c.check),
      ['readings', 'energy', 'clearing', 'credits', 'statements'],
    );
    const readings = i.checks[0]!;
    // Every reading of each meter's validated series is checked: all 5 boundary readings of the 8 meters here.
    assert.equal(readings.figures.validSignatures, 40);
    assert.equal(readings.figures.readings, 40);
    assert.equal(readings.figures.readingsRoot, readings.figures.committedRoot);
    const credits = i.checks[3]!;
    assert.equal(String(credits.figures.mintedWh), String(credits.figures.meteredExportWh));
    assert.ok(Number(credits.figures.meteredExportWh) > 0);
    assert.equal(i.checks[2]!.figures.identicalReruns, 1);
  }
  // the same report from two worker threads
  const w = await audit(2);
  assert.deepEqual(w.intervals, r.intervals);
  const cli = runMgx([
    'audit',
    '--data-dir',
    dataDir,
    '--config',
    configFile(),
    '--rpc',
    anvil.rpcUrl,
    '--contract',
    contract,
    '--from',
    iso(0),
    '--to',
    iso(N),
    '--format',
    'json',
  ]);
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(JSON.parse(cli.stdout).passed, N);
  assert.match(cli.stderr, /intervals\/s/);
  const csv = runMgx([
    'audit',
    '--data-dir',
    dataDir,
    '--config',
    configFile(),
    '--rpc',
    anvil.rpcUrl,
    '--contract',
    contract,
    '--interval',
    iso(1),
    '--format',
    'csv',
  ]);
  assert.equal(csv.status, 0, csv.stderr);
  assert.equal(csv.stdout.trim().split('\n').length, 6);
});

it('bad input is named and exits 2', () => {
  const bad = runMgx([
    'audit',
    '--data-dir',
    dataDir,
    '--config',
    configFile(),
    '--rpc',
    anvil.rpcUrl,
    '--contract',
    contract,
    '--interval',
    '2027-01-15T08:07:00Z',
  ]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--interval.*AUDIT_INPUT/);
  const down = runMgx([
    'audit',
    '--data-dir',
    dataDir,
    '--config',
    configFile(),
    '--rpc',
    'http://127.0.0.1:9',
    '--contract',
    contract,
  ]);
  assert.equal(down.status, 2);
  assert.match(down.stderr, /--rpc.*AUDIT_INPUT/);
  assert.match(down.stderr, /127\.0\.0\.1:9/);
  const fmt = runMgx([
    'audit',
    '--data-dir',
    dataDir,
    '--config',
    configFile(),
    '--rpc',
    anvil.rpcUrl,
    '--contract',
    contract,
    '--format',
    'xml',
  ]);
  assert.equal(fmt.status, 2);
  assert.match(fmt.stderr, /--format/);
});

it('tampering is caught: a changed reading, a dropped trade, an altered order, a statement changed in its detail, an extra mint by a second settler', async () => {
  // 1. interval 0: one reading's export counter changed in the ledger
  ledger.db
    .prepare('UPDATE readings SET export_wh = export_wh + 7 WHERE meter_id = ? AND ts = ?')
    .run('h0001-grid', T0);
  // 2. interval 1: one trade dropped from the stored clearing result
  const row = ledger.db
    .prepare("SELECT result FROM clearing_results WHERE interval_start = ? AND kind = 'metered'")
    .get(T0 + STEP) as { result: string };
  const res = JSON.parse(row.result) as { trades: unknown[] };
  assert.ok(res.trades.length >= 2);
  res.trades.splice(1, 1);
  ledger.db
    .prepare("UPDATE clearing_results SET result = ? WHERE interval_start = ? AND kind = 'metered'")
    .run(JSON.stringify(res), T0 + STEP);
  // 3. interval 2: a stored metered order altered
  const order = ledger.db
    .prepare("SELECT id FROM orders WHERE interval_start = ? AND source = 'metered' ORDER BY seq LIMIT 1")
    .get(T0 + 2 * STEP) as { id: string };
  ledger.db.prepare('UPDATE orders SET energy_wh = energy_wh - 1 WHERE id = ?').run(order.id);
  // 3b. interval 3: one figure deep in a stored statement's detail changed (its totals still balance)
  const st = ledger.db
    .prepare(
      'SELECT participant_id AS participant, detail FROM statements WHERE interval_start = ? ORDER BY participant_id LIMIT 1',
    )
    .get(T0 + 3 * STEP) as { participant: string; detail: string };
  const detail = JSON.parse(st.detail) as { meteredImportWh: number };
  detail.meteredImportWh += 1;
  ledger.db
    .prepare('UPDATE statements SET detail = ? WHERE interval_start = ? AND participant_id = ?')
    .run(JSON.stringify(detail), T0 + 3 * STEP, st.participant);
  // 4. interval 4 (never settled): a second settler key commits and mints credits to itself
  const admin = clients.wallet(0);
  const rogue = clients.wallet(1);
  const role = (await clients.public.readContract({
    address: contract,
    abi,
    functionName: 'SETTLER_ROLE',
  })) as `0x${string}`;
  await clients.public.waitForTransactionReceipt({
    hash: await admin.writeContract({
      address: contract,
      abi,
      functionName: 'grantRole',
      args: [role, rogue.account.address],
    }),
  });
  const id = BigInt((T0 + 4 * STEP) / 1000);
  const { chunks, root } = buildCreditChunks(id, [{ account: rogue.account.address, wh: 1234n }], 10);
  const c = {
    interval: id,
    tradesRoot: root,
    readingsRoot: root,
    creditsRoot: root,
    ruleSet: root,
    exportWh: 1234n,
    matchedWh: 0n,
    chunks: 1,
  };
  await clients.public.waitForTransactionReceipt({
    hash: await rogue.writeContract({ address: contract, abi, functionName: 'commit', args: [c] }),
  });
  await clients.public.waitForTransactionReceipt({
    hash: await rogue.writeContract({
      address: contract,
      abi,
      functionName: 'mintChunk',
      args: [c, 0, chunks[0]!.proof, chunks[0]!.words],
    }),
  });

  const r = await audit();
  assert.equal(r.pass, false);
  assert.deepEqual((await audit(2)).intervals, r.intervals);
  const fails = (k: number) =>
    r.intervals
      .find((i) => i.interval === new Date(T0 + k * STEP).toISOString().replace('.000Z', 'Z'))!
      .checks.flatMap((c) => c.failures);
  const f0 = fails(0);
  assert.ok(
    f0.some(
      (f) =>
        f.check === 'readings' &&
        f.record === 'meter h0001-grid ts 2027-01-15T08:00:00.000Z' &&
        /registered gateway/.test(f.message),
    ),
    JSON.stringify(f0),
  );
  assert.ok(f0.some((f) => f.check === 'readings' && /readingsRoot/.test(f.record)));
  assert.ok(f0.some((f) => f.check === 'energy' && f.record.startsWith('meter h0001-grid')));
  const f1 = fails(1);
  assert.ok(
    f1.some((f) => f.check === 'clearing' && /^metered trade seq 1 /.test(f.record)),
    JSON.stringify(f1),
  );
  const f2 = fails(2);
  assert.ok(
    f2.some((f) => f.check === 'clearing' && f.record === `order ${order.id}`),
    JSON.stringify(f2),
  );
  const f4 = fails(4);
  assert.ok(
    f4.some(
      (f) =>
        f.check === 'credits' &&
        f.record === `recipient ${rogue.account.address.toLowerCase()}` &&
        f.found === '1234 Wh',
    ),
    JSON.stringify(f4),
  );
  // Interval 3 fails on the changed reading (it is in the series its meter data is validated on) and on the statement
  // changed in its detail, nothing else.
  assert.deepEqual(
    fails(3).map((f) => [f.check, f.record]),
    [
      ['readings', 'meter h0001-grid ts 2027-01-15T08:00:00.000Z'],
      ['statements', `statement of ${st.participant} (detail)`],
    ],
  );
  const cli = runMgx([
    'audit',
    '--data-dir',
    dataDir,
    '--config',
    configFile(),
    '--rpc',
    anvil.rpcUrl,
    '--contract',
    contract,
    '--from',
    iso(0),
    '--to',
    iso(N + 1),
  ]);
  assert.equal(cli.status, 1);
  assert.match(cli.stdout, /check clearing {2}order m:/);
});
