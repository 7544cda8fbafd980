import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, http, type Abi, type Address } from 'viem';
import { openLedger } from '../../ledger/ledger.js';
import { participantAccount } from '../../settlement/index.js';
import { loadArtifact } from '../../contracts/artifact.js';
import { toUnixSeconds } from '../../core/interval.js';
import { spawnMgx } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';
import { mulberry32 } from '../../core/seeded-random.js';
import { FOUR_HOUSEHOLDS } from './four-households.js';

/**
 * The whole app (`mgx start`, with its simulated households, bridge, ledger,
 * anvil and submitter) is killed with SIGKILL at seeded random moments and
 * started again on the same data folder. Market time runs 600× faster, with
 * 5-minute intervals (half a second of wall time each), so every trial cuts
 * through some step of some interval. Afterwards every settled interval must
 * be minted exactly once on chain, no statement may ever change once written,
 * and the ledger's readings only grow.
 */

const TRIALS = Number(process.env.MGX_CRASH_TRIALS ?? 20);
const SEED = Number(process.env.MGX_CRASH_SEED ?? Date.now() % 1_000_000);

const CONFIG = `
microgrid: { name: Crash test }
market: { intervalMinutes: 5, gateClosureSeconds: 60, gracePeriodSeconds: 120 }
clock: { speed: 600, startAt: "2026-06-21T09:00:00Z" }
bridge: { pollIntervalMs: 100, recordEveryMs: 60000 }
demo: { enabled: true, households: 4 }
${FOUR_HOUSEHOLDS}`;

interface Snapshot {
  statements: Map<string, string>;
  readings: number;
}

function snapshot(dataDir: string): Snapshot {
  const l = openLedger(join(dataDir, 'ledger.sqlite'));
  try {
    const rows = l.db
      .prepare(
        'SELECT interval_start AS s, participant_id AS p, paid, received, fees, grid_amount AS g, net FROM statements',
      )
      .all() as Record<string, string | number>[];
    const readings = (l.db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
    return {
      statements: new Map(rows.map((r) => [`${r.s}/${r.p}`, `${r.paid}|${r.received}|${r.fees}|${r.g}|${r.net}`])),
      readings,
    };
  } finally {
    l.close();
  }
}

test(
  `the app killed with SIGKILL at ${TRIALS} random moments still settles and mints every interval exactly once (seed ${SEED})`,
  { timeout: 600_000 },
  async () => {
    console.log(`crash-recovery seed=${SEED} (replay with MGX_CRASH_SEED=${SEED})`);
    const rand = mulberry32(SEED);
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const cfg = join(dir, 'microgrid.yaml');
    writeFileSync(cfg, CONFIG);
    const args = ['start', '--config', cfg, '--data-dir', dataDir, '--port', '0'];
    let before: Snapshot = { statements: new Map(), readings: 0 };

    for (let trial = 0; trial < TRIALS; trial++) {
      const p = spawnMgx(args);
      // Kill anywhere from start-up (before the server listens) to a few intervals in.
      const at = Math.floor(rand() * 3500);
      await Promise.race([p.exited, new Promise((r) => setTimeout(r, at))]);
      p.child.kill('SIGKILL');
      const exit = await p.exited;
      assert.ok(
        exit.signal === 'SIGKILL' || exit.code === 0,
        `trial ${trial}: the app died on its own:\n${p.output().slice(-2000)}`,
      );
      const now = snapshot(dataDir);
      for (const [k, v] of before.statements)
        assert.equal(now.statements.get(k), v, `trial ${trial}: statement ${k} changed or vanished after a crash`);
      assert.ok(
        now.readings >= before.readings,
        `trial ${trial}: readings lost (${before.readings} → ${now.readings})`,
      );
      before = now;
    }

    // A last, clean run: everything pending goes through to the chain.
    const p = spawnMgx(args);
    const rpc = (
      await p.waitFor(/chain 31337 at (http:\/\/127\.0\.0\.1:\d+), EnergyCredits at (0x[0-9a-fA-F]{40})/, 60_000)
    ).slice(1, 3) as [string, Address];
    await p.waitFor(/running at/, 60_000);
    const l = openLedger(join(dataDir, 'ledger.sqlite'));
    try {
      // Run until a few intervals with surplus are final; then every interval settled up to the
      // last final one must be on chain.
      type Row = { s: number; exportWh: number; status: string };
      const rowsNow = (): Row[] =>
        l.db
          .prepare(
            'SELECT interval_start AS s, export_wh AS exportWh, status FROM settlement_credits ORDER BY interval_start',
          )
          .all() as Row[];
      const deadline = Date.now() + 120_000;
      const ready = (): boolean => rowsNow().filter((r) => r.status === 'final' && r.exportWh > 0).length >= 3;
      while (!ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      assert.ok(ready(), `three intervals with surplus reach the chain (${JSON.stringify(rowsNow().slice(-5))})`);
      const lastFinal = Math.max(
        ...rowsNow()
          .filter((r) => r.status === 'final')
          .map((r) => r.s),
      );
      const rows = rowsNow().filter((r) => r.s <= lastFinal);
      assert.deepEqual(
        rows.filter((r) => r.status === 'queued').map((r) => r.s),
        [],
        'intervals reach the chain in order: none before the last final one is still queued',
      );

      const client = createPublicClient({ transport: http(rpc[0]) });
      const abi = loadArtifact('EnergyCredits').abi as Abi;
      const accounts = ['h01', 'h02', 'h03', 'h04'].map((id) => participantAccount({ id }));
      for (const r of rows) {
        const minted = (
          await Promise.all(
            accounts.map(
              (a) =>
                client.readContract({
                  address: rpc[1],
                  abi,
                  functionName: 'balanceOf',
                  args: [a, BigInt(toUnixSeconds(r.s))],
                }) as Promise<bigint>,
            ),
          )
        ).reduce((a, b) => a + b, 0n);
        assert.equal(
          minted,
          BigInt(r.exportWh),
          `interval ${new Date(r.s).toISOString()}: minted exactly its metered export once (status ${r.status})`,
        );
      }
      const final = snapshot(dataDir);
      for (const [k, v] of before.statements)
        assert.equal(final.statements.get(k), v, `statement ${k} changed on the final run`);
    } finally {
      l.close();
      p.child.kill('SIGTERM');
      await p.exited;
    }
  },
);
