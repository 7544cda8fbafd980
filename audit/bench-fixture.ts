// The synthetic month the audit benchmark (bench.ts) audits: its parameters,
// where it is cached, and loading it. The month is built the way the app
// builds it (app/bench/audit-month.ts, through the app's cycle steps), so
// this room does not import that builder: it runs it as a child process when
// the cache does not hold the month yet.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Address } from 'viem';
import { demoConfig } from '../core/config/demo.js';
import type { Config } from '../core/config/schema.js';
import { startAnvil, type AnvilInstance } from '../settlement/chain/anvil.js';
import { RULE_SET_VERSION } from '../matching-engine/index.js';

export const STEP = 900_000;
export const T0 = Date.UTC(2027, 0, 1, 0, 0);
export const GAS_LIMIT = 60_000_000n;
const BUILDER = fileURLToPath(new URL('../app/bench/audit-month.ts', import.meta.url));

export function benchConfig(): Config {
  const c = demoConfig(2, T0);
  // Readings at the interval boundaries only: recorded once per interval.
  return {
    ...c,
    market: { ...c.market, intervalMinutes: 15 as const },
    bridge: { ...c.bridge, recordEveryMs: 900_000 },
  };
}

export interface Month {
  ledgerPath: string;
  contract: Address;
  anvil: AnvilInstance;
  /** Seconds the build took (0 when the month came from the cache), and where each part went. */
  buildSeconds: number;
  phases: Record<string, number>;
  cached: boolean;
}

/** What the builder writes beside the ledger and anvil's state. */
export interface MonthMeta {
  contract: Address;
  intervals: number;
  households: number;
  builtAt: string;
  buildSeconds: number;
  phases: Record<string, number>;
}

/**
 * Cache key: the parameters and the code that shapes the data (the builder, this file, the clearing rule set, the
 * contract's bytecode, the ledger's migrations).
 */
export function cacheKey(intervals: number, households: number): string {
  const h = createHash('sha256');
  h.update(`${intervals}:${households}:${RULE_SET_VERSION}\n`);
  for (const file of [
    BUILDER,
    ...['./bench-fixture.ts', '../contracts/artifacts/EnergyCredits.json', '../ledger/migrations/index.ts'].map((rel) =>
      fileURLToPath(new URL(rel, import.meta.url)),
    ),
  ])
    h.update(readFileSync(file));
  return `${intervals}x${households}-${h.digest('hex').slice(0, 12)}`;
}

/**
 * The month for (intervals, households): from `cacheDir` when it holds one,
 * else built there first (`tsx app/bench/audit-month.ts`); with no cache,
 * built under `workDir`. Its ledger is copied to `workDir` and anvil started
 * on its state.
 */
export async function month(o: {
  intervals: number;
  households: number;
  cacheDir: string | null;
  workDir: string;
}): Promise<Month> {
  const dir = join(o.cacheDir ?? o.workDir, cacheKey(o.intervals, o.households));
  const cached = existsSync(join(dir, 'month.json'));
  if (!cached) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        BUILDER,
        '--intervals',
        String(o.intervals),
        '--households',
        String(o.households),
        '--out',
        dir,
      ],
      { stdio: 'inherit' },
    );
    // The bench stopped (Ctrl-C, a kill): the build stops with it (and stops its anvil).
    const stop = () => child.kill('SIGTERM');
    process.once('exit', stop);
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    process.off('exit', stop);
    if (code !== 0)
      throw new Error(
        `building the month (${BUILDER}) failed: ${code === null ? `killed by ${signal}` : `exit ${code}`}`,
      );
  }
  const meta = JSON.parse(readFileSync(join(dir, 'month.json'), 'utf8')) as MonthMeta;
  const ledgerPath = join(o.workDir, 'ledger.sqlite');
  copyFileSync(join(dir, 'ledger.sqlite'), ledgerPath);
  const anvil = await startAnvil({ gasLimit: GAS_LIMIT, extraArgs: ['--load-state', join(dir, 'anvil-state.json')] });
  if (cached) process.stderr.write(`month from the cache ${dir}\n`);
  return {
    ledgerPath,
    contract: meta.contract,
    anvil,
    buildSeconds: cached ? 0 : meta.buildSeconds,
    phases: cached ? {} : meta.phases,
    cached,
  };
}
