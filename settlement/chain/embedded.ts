import { mkdirSync } from 'node:fs';
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
  hardfork: string | undefined;
  stop(): Promise<void>;
}

/**
 * The default chain when no RPC URL is configured: anvil from node_modules on
 * 127.0.0.1, a block per transaction. Its state is kept in
 * <dataDir>/chain/anvil-state.json (loaded at start, written every 2 s and on
 * a clean stop), so credits and the deployed contract survive a restart; a
 * hard kill may lose the last two seconds, which deployOrLoad and the
 * submitter's reconciliation against the contract then repair.
 */
export async function startEmbeddedChain(opts: StartEmbeddedChainOptions): Promise<EmbeddedChain> {
  const dir = join(opts.dataDir, 'chain');
  mkdirSync(dir, { recursive: true });
  const anvil: AnvilInstance = await startAnvil({
    ...(opts.hardfork ? { hardfork: opts.hardfork } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    chainId: 31337,
    stateFile: join(dir, opts.hardfork ? `anvil-state-${opts.hardfork}.json` : 'anvil-state.json'),
    extraArgs: ['--state-interval', '2'],
  });
  return { rpcUrl: anvil.rpcUrl, chainId: 31337, port: anvil.port, hardfork: opts.hardfork, stop: () => anvil.stop() };
}
