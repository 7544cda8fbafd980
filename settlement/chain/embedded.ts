import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startAnvil, type AnvilInstance } from './anvil.js';

export interface StartEmbeddedChainOptions {
  /** The app's data folder; the chain's state lives in <dataDir>/chain/. */
  dataDir: string;
  /** e.g. 'london' to run Energy Web Chain's EVM. */
  hardfork?: string;
  /** Fixed port; default any free loopback port. */
  port?: number;
}

export interface EmbeddedChain {
  rpcUrl: string;
  chainId: 31337;
  port: number;
  pid: number;
  hardfork: string | undefined;
  stop(): Promise<void>;
}

/**
 * The default chain when no RPC URL is configured: anvil from node_modules on
 * 127.0.0.1, a block per transaction. Its state is kept in
 * <dataDir>/chain/anvil-state[-<hardfork>].json (loaded at start, written every
 * 2 s and on SIGTERM), so credits and the deployed contract survive a restart.
 *
 * If the app was killed, its anvil outlives it (a child is not killed with
 * its parent). Its pid is in <dataDir>/chain/anvil.pid; on the next start
 * every process that /proc says is an anvil on this very state file — the one
 * in the pid file, and one started by an app killed before it could write the
 * pid file — gets SIGTERM, writes its state, and exits before the new one
 * starts (two anvils writing one state file would lose blocks).
 */
export async function startEmbeddedChain(opts: StartEmbeddedChainOptions): Promise<EmbeddedChain> {
  // Absolute, so the state file's path on a leftover anvil's command line matches whatever the cwd.
  const dir = join(resolve(opts.dataDir), 'chain');
  mkdirSync(dir, { recursive: true });
  const stateFile = join(dir, opts.hardfork ? `anvil-state-${opts.hardfork}.json` : 'anvil-state.json');
  const pidFile = join(dir, 'anvil.pid');
  await stopLeftover(pidFile, stateFile);
  const anvil: AnvilInstance = await startAnvil({
    ...(opts.hardfork ? { hardfork: opts.hardfork } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    chainId: 31337,
    stateFile,
    extraArgs: ['--state-interval', '2'],
  });
  writeFileSync(pidFile, JSON.stringify({ pid: anvil.pid, stateFile }) + '\n');
  return {
    rpcUrl: anvil.rpcUrl,
    chainId: 31337,
    port: anvil.port,
    pid: anvil.pid,
    hardfork: opts.hardfork,
    async stop() {
      await anvil.stop();
      // only our own pid file: a later instance may have written its own
      if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').includes(`"pid":${anvil.pid},`)) rmSync(pidFile, { force: true });
    },
  };
}

/** Pids of running anvil processes serving `stateFile` (from /proc; none where there is no /proc). */
function anvilsOn(stateFile: string): number[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const pid of pids) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const i = cmd.indexOf('--state');
      if (cmd[0]?.endsWith('anvil') && i > 0 && cmd[i + 1] === stateFile) out.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function stopLeftover(pidFile: string, stateFile: string): Promise<void> {
  const alive = (pid: number): boolean => anvilsOn(stateFile).includes(pid);
  for (const pid of anvilsOn(stateFile)) {
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      continue; // exited meanwhile
    }
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
}
