import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
 * its parent). Its pid is in <dataDir>/chain/anvil.pid: on the next start
 * that process — only if /proc says it is an anvil on this very state file —
 * gets SIGTERM, writes its state, and exits before the new one starts.
 */
export async function startEmbeddedChain(opts: StartEmbeddedChainOptions): Promise<EmbeddedChain> {
  const dir = join(opts.dataDir, 'chain');
  mkdirSync(dir, { recursive: true });
  const stateFile = join(dir, opts.hardfork ? `anvil-state-${opts.hardfork}.json` : 'anvil-state.json');
  const pidFile = join(dir, 'anvil.pid');
  await stopLeftover(pidFile);
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

async function stopLeftover(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  let left: { pid: number; stateFile: string };
  try {
    left = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number; stateFile: string };
  } catch {
    rmSync(pidFile, { force: true });
    return;
  }
  const isOurs = () => {
    try {
      const cmd = readFileSync(`/proc/${left.pid}/cmdline`, 'utf8').split('\0');
      return cmd.some((a) => a.endsWith('anvil')) && cmd.includes(left.stateFile);
    } catch {
      return false; // gone (or no /proc: nothing we can check, so nothing we kill)
    }
  };
  if (Number.isSafeInteger(left.pid) && left.pid > 1 && isOurs()) {
    process.kill(left.pid, 'SIGTERM');
    for (let i = 0; i < 100 && isOurs(); i++) await new Promise((r) => setTimeout(r, 50));
    if (isOurs()) process.kill(left.pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
}
