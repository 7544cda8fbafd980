import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, http, type Abi, type Address, type PublicClient } from 'viem';
import { openLedger } from '../../ledger/ledger.js';
import { participantAccount } from '../../settlement/index.js';
import { loadArtifact } from '../../contracts/artifact.js';
import { toUnixSeconds } from '../../core/interval.js';
import { mulberry32 } from '../../core/seeded-random.js';
import { startAnvil } from '../../settlement/chain/anvil.js';
import { anvilsOf, processAlive } from '../../settlement/chain/anvil-processes.js';
import { runMgx, spawnMgx } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';
import { FOUR_HOUSEHOLDS } from './four-households.js';

/**
 * A power cut, as an operator's would be: the demo (`mgx start`, its own
 * process group) and its embedded anvil (its own session) SIGKILLed together
 * at seeded moments — some right after a mint was reported final — and
 * started again on the same data folder. After each cut, the chain as the
 * next start will load it must hold every interval the ledger calls final;
 * at the end every settled interval is minted exactly once, read from the
 * chain (contract totals, balances, events), none is stuck, and `mgx audit`
 * passes. Then anvil alone is SIGKILLed under a running app: settlement goes
 * on, nothing lost or doubled.
 */

const TRIALS = Math.max(20, Number(process.env.MGX_POWER_CUT_TRIALS ?? 20));
const SEED = Number(process.env.MGX_POWER_CUT_SEED ?? Date.now() % 1_000_000);

// 5-minute intervals at 300× (one a second of wall time), from 07:00: the ~70 s the test takes — app
// downtime included, market time runs on — stay in daylight, so intervals have credits to lose.
const CONFIG = `
microgrid: { name: Power cut }
market: { intervalMinutes: 5, gateClosureSeconds: 60, gracePeriodSeconds: 120 }
clock: { speed: 300, startAt: "2026-06-21T07:00:00Z" }
bridge: { pollIntervalMs: 100, recordEveryMs: 60000 }
demo: { enabled: true, households: 4 }
${FOUR_HOUSEHOLDS}`;

const abi = loadArtifact('EnergyCredits').abi as Abi;
const ACCOUNTS = ['h01', 'h02', 'h03', 'h04'].map((id) => participantAccount({ id }));
const CHAIN_LINE = /chain 31337 at (http:\/\/127\.0\.0\.1:\d+), EnergyCredits at (0x[0-9a-fA-F]{40})/;
const FINAL_LINE = /settlement of \S+: final"/;

type Row = { s: number; exportWh: number; status: string };

function creditRows(dataDir: string): Row[] {
  if (!existsSync(join(dataDir, 'ledger.sqlite'))) return []; // cut before the ledger was created
  const l = openLedger(join(dataDir, 'ledger.sqlite'), { readonly: true });
  try {
    return l.db
      .prepare(
        'SELECT interval_start AS s, export_wh AS exportWh, status FROM settlement_credits ORDER BY interval_start',
      )
      .all() as Row[];
  } finally {
    l.close();
  }
}

function setup(): { dataDir: string; cfg: string; args: string[]; chainDir: string; stateFile: string } {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const cfg = join(dir, 'microgrid.yaml');
  writeFileSync(cfg, CONFIG);
  const chainDir = join(dataDir, 'chain');
  return {
    dataDir,
    cfg,
    args: ['start', '--config', cfg, '--data-dir', dataDir, '--port', '0'],
    chainDir,
    stateFile: join(chainDir, 'anvil-state.json'),
  };
}

async function gone(pids: number[]): Promise<void> {
  for (let i = 0; i < 200 && pids.some(processAlive); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(!pids.some(processAlive), `processes ${pids.join(', ')} still run after SIGKILL`);
}

/** The app's whole process group and every anvil of its chain folder, SIGKILLed at the same moment. */
async function powerCut(pid: number, chainDir: string, stateFile: string): Promise<void> {
  const anvils = anvilsOf(chainDir, stateFile);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
  for (const a of anvils) process.kill(a, 'SIGKILL');
  await gone(anvils);
}

/** Every final interval with credits is committed and fully minted on the chain at `rpcUrl`. */
async function assertFinalOnChain(client: PublicClient, contract: Address, rows: Row[], what: string): Promise<void> {
  for (const r of rows.filter((x) => x.status === 'final' && x.exportWh > 0)) {
    const [committedWh, mintedWh, chunks, mintedChunks] = (await client.readContract({
      address: contract,
      abi,
      functionName: 'intervals',
      args: [BigInt(toUnixSeconds(r.s))],
    })) as readonly [bigint, bigint, number, number];
    assert.deepEqual(
      [committedWh, mintedWh, mintedChunks],
      [BigInt(r.exportWh), BigInt(r.exportWh), chunks],
      `${what}: ${new Date(r.s).toISOString()} is final in the ledger with ${r.exportWh} Wh; on chain committed ${committedWh}, minted ${mintedWh} in ${mintedChunks}/${chunks} chunks`,
    );
  }
}

/** Exactly once, from the chain: balances, one Committed event, one ChunkMinted per chunk, adding up to the export. */
async function assertMintedOnce(client: PublicClient, contract: Address, rows: Row[]): Promise<void> {
  const committed = await client.getContractEvents({ address: contract, abi, eventName: 'Committed', fromBlock: 0n });
  const minted = await client.getContractEvents({ address: contract, abi, eventName: 'ChunkMinted', fromBlock: 0n });
  for (const r of rows) {
    const id = BigInt(toUnixSeconds(r.s));
    const balances = (await client.readContract({
      address: contract,
      abi,
      functionName: 'balanceOfBatch',
      args: [ACCOUNTS, ACCOUNTS.map(() => id)],
    })) as bigint[];
    const when = new Date(r.s).toISOString();
    assert.equal(
      balances.reduce((a, b) => a + b, 0n),
      BigInt(r.exportWh),
      `${when}: balances add up to the metered export, once`,
    );
    const mine = minted.filter((e) => (e.args as { interval: bigint }).interval === id);
    const chunks = mine.map((e) => (e.args as { chunk: number }).chunk);
    assert.equal(new Set(chunks).size, chunks.length, `${when}: no chunk minted twice (${chunks.join(',')})`);
    assert.equal(
      mine.reduce((a, e) => a + (e.args as { wh: bigint }).wh, 0n),
      BigInt(r.exportWh),
      `${when}: ChunkMinted events add up to the export`,
    );
    assert.equal(
      committed.filter((e) => (e.args as { interval: bigint }).interval === id).length,
      r.exportWh > 0 ? 1 : 0,
      `${when}: committed once`,
    );
  }
}

/** Waits until `n` more intervals with credits are final than `before`. */
async function untilFinal(dataDir: string, n: number, ms: number): Promise<Row[]> {
  const count = () => creditRows(dataDir).filter((r) => r.status === 'final' && r.exportWh > 0).length;
  const target = count() + n;
  const deadline = Date.now() + ms;
  while (count() < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const rows = creditRows(dataDir);
  assert.ok(count() >= target, `${n} more intervals with credits reach the chain (${JSON.stringify(rows.slice(-5))})`);
  return rows;
}

/** Settled up to the last final interval: all final (none stuck); returns them. */
function settledUpToLastFinal(rows: Row[]): Row[] {
  const lastFinal = Math.max(...rows.filter((r) => r.status === 'final').map((r) => r.s));
  const upTo = rows.filter((r) => r.s <= lastFinal);
  assert.deepEqual(
    upTo.filter((r) => r.status !== 'final' && r.status !== 'empty').map((r) => new Date(r.s).toISOString()),
    [],
    'no interval before the last final one is stuck',
  );
  return upTo;
}

test(
  `power cuts (app and anvil SIGKILLed together) at ${TRIALS} seeded moments lose no final credit and stall no interval (seed ${SEED})`,
  { timeout: 300_000 },
  async () => {
    console.log(`power-cut seed=${SEED} (replay with MGX_POWER_CUT_SEED=${SEED})`);
    const rand = mulberry32(SEED);
    const { dataDir, cfg, args, chainDir, stateFile } = setup();
    let current: ReturnType<typeof spawnMgx> | undefined;
    try {
      let afterFinal = 0;
      for (let trial = 0; trial < TRIALS; trial++) {
        const p = (current = spawnMgx(args, { detached: true }));
        if (trial % 4 === 3) {
          // right after a mint was reported final (the submitter's log line): the narrowest window there is
          await p.waitFor(FINAL_LINE, 60_000);
          afterFinal++;
        } else {
          await Promise.race([p.exited, new Promise((r) => setTimeout(r, Math.floor(rand() * 4000)))]);
        }
        await powerCut(p.child.pid!, chainDir, stateFile);
        const exit = await p.exited;
        assert.ok(
          exit.signal === 'SIGKILL' || exit.code === 0,
          `trial ${trial}: the app died on its own:\n${p.output().slice(-2000)}`,
        );
        current = undefined;
        // The chain the next start loads: it must hold every interval the ledger calls final.
        const rows = creditRows(dataDir);
        const deployment = join(chainDir, 'deployment-31337.json');
        if (!existsSync(stateFile) || !existsSync(deployment)) {
          assert.equal(
            rows.filter((r) => r.status === 'final' && r.exportWh > 0).length,
            0,
            `trial ${trial}: intervals final without a persisted chain`,
          );
          continue;
        }
        const contract = (JSON.parse(readFileSync(deployment, 'utf8')) as { address: Address }).address;
        const loaded = await startAnvil({ chainId: 31337, extraArgs: ['--load-state', stateFile] });
        try {
          await assertFinalOnChain(
            createPublicClient({ transport: http(loaded.rpcUrl) }) as PublicClient,
            contract,
            rows,
            `trial ${trial}`,
          );
        } finally {
          await loaded.stop();
        }
      }
      assert.ok(afterFinal >= 5, 'cuts right after a final mint');

      // A last run: what was pending goes through; the chain judges.
      const p = (current = spawnMgx(args, { detached: true }));
      const [, rpc, contract] = (await p.waitFor(CHAIN_LINE, 60_000)) as unknown as [string, string, Address];
      await p.waitFor(/running at/, 60_000);
      await untilFinal(dataDir, 3, 120_000);
      const rows = settledUpToLastFinal(creditRows(dataDir));
      const client = createPublicClient({ transport: http(rpc) }) as PublicClient;
      await assertFinalOnChain(client, contract, rows, 'last run');
      await assertMintedOnce(client, contract, rows);
      // The audit re-runs the meter data rules on the readings each metering step had (its recorded cut-off), so
      // the readings gap every restart leaves is judged as the engine judged it: every interval from the first.
      const from = new Date(Math.min(...rows.map((r) => r.s))).toISOString();
      const to = new Date(Math.max(...rows.map((r) => r.s)) + 5 * 60_000).toISOString();
      const audit = runMgx(
        [
          'audit',
          '--config',
          cfg,
          '--data-dir',
          dataDir,
          '--rpc',
          rpc,
          '--contract',
          contract,
          '--from',
          from,
          '--to',
          to,
          '--format',
          'json',
        ],
        { timeoutMs: 120_000 },
      );
      const report = JSON.parse(audit.stdout || '{}') as {
        passed?: number;
        intervals?: { interval: string; pass: boolean; checks: { check: string; failures: unknown[] }[] }[];
      };
      const failed = (report.intervals ?? [])
        .filter((i) => !i.pass)
        .map((i) => ({ interval: i.interval, failures: i.checks.flatMap((c) => c.failures) }));
      assert.equal(
        audit.status,
        0,
        `mgx audit passes every interval from ${from}:\n${JSON.stringify(failed).slice(0, 3000)}\n${audit.stderr.slice(-2000)}`,
      );
      assert.ok(
        (report.passed ?? 0) >= rows.length,
        `every settled interval audited (${report.passed} of ${rows.length})`,
      );
      const l = openLedger(join(dataDir, 'ledger.sqlite'), { readonly: true });
      try {
        const lost = l.db
          .prepare("SELECT COUNT(*) AS n FROM settlement_journal WHERE error LIKE '%not on chain any more%'")
          .get() as { n: number };
        const fromChain = l.db
          .prepare("SELECT COUNT(*) AS n FROM settlement_journal WHERE error LIKE '%above the chain%'")
          .get() as { n: number };
        console.log(
          `power-cut: ${afterFinal} cuts right after a final mint; ${lost.n} mined rows lost with anvil and planned again; ${fromChain.n} signed rows re-signed at the chain's nonce; mgx audit passed ${report.passed} intervals from ${from}`,
        );
      } finally {
        l.close();
      }
    } finally {
      if (current?.child.pid) await powerCut(current.child.pid, chainDir, stateFile);
      await gone(anvilsOf(chainDir, stateFile));
    }
  },
);

test(
  'anvil alone SIGKILLed under a running app, then its chain rolled back below final rows: settlement goes on, nothing lost or doubled',
  { timeout: 240_000 },
  async () => {
    const { dataDir, args, chainDir, stateFile } = setup();
    const p = spawnMgx(args, { detached: true });
    try {
      const [, rpc, contract] = (await p.waitFor(CHAIN_LINE, 60_000)) as unknown as [string, string, Address];
      await p.waitFor(/running at/, 60_000);
      await untilFinal(dataDir, 2, 120_000);
      const client = createPublicClient({ cacheTime: 0, transport: http(rpc) }) as PublicClient;
      for (const moment of ['right after a final', 'mid-interval'] as const) {
        if (moment === 'right after a final') {
          const seen = p.output().match(new RegExp(FINAL_LINE.source, 'g'))?.length ?? 0;
          while ((p.output().match(new RegExp(FINAL_LINE.source, 'g'))?.length ?? 0) === seen)
            await new Promise((r) => setTimeout(r, 5));
        } else {
          await new Promise((r) => setTimeout(r, 700));
        }
        const [anvil] = anvilsOf(chainDir, stateFile);
        assert.ok(anvil, 'the embedded anvil runs');
        process.kill(anvil, 'SIGKILL');
        await gone([anvil]);
        const rows = await untilFinal(dataDir, 2, 120_000);
        await assertFinalOnChain(client, contract, rows, `after anvil was killed ${moment}`);
      }
      // The chain rolled back below final rows under the running app (a node restored from a backup):
      // the rows are noticed gone on the next pass and sent again, once.
      const finalBefore = creditRows(dataDir).filter((r) => r.status === 'final' && r.exportWh > 0);
      const head = await client.getBlockNumber();
      await client.request({ method: 'anvil_rollback' as never, params: [6] as never });
      assert.ok((await client.getBlockNumber()) < head);
      await untilFinal(dataDir, 2, 120_000);
      const rows = settledUpToLastFinal(creditRows(dataDir));
      await assertFinalOnChain(client, contract, finalBefore, 'after the rollback');
      await assertMintedOnce(client, contract, rows);
      assert.match(p.output(), /reorged/, 'the submitter saw rows gone from the chain');
      assert.ok(processAlive(p.child.pid!), 'the app kept running');
    } finally {
      p.child.kill('SIGTERM');
      const exit = await p.exited;
      await gone(anvilsOf(chainDir, stateFile));
      assert.equal(exit.code, 0, `clean stop:\n${p.output().slice(-1500)}`);
    }
  },
);
