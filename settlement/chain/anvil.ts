import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MicrogridError } from '../../core/errors.js';

/**
 * Starts the anvil binary shipped by @foundry-rs/anvil on loopback. The
 * binary lives in the platform package (@foundry-rs/anvil-<os>-<arch>); we
 * resolve it through node's resolver instead of hard-coding a path, and run it
 * directly (not through the npm wrapper) so a kill reaches anvil itself.
 * `--port 0` lets the kernel pick a free port; we read it back from anvil's
 * "Listening on 127.0.0.1:<port>" line.
 */

const require = createRequire(import.meta.url);

export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const dir = dirname(require.resolve(`${pkg}/package.json`));
    return join(dir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  } catch (cause) {
    throw new MicrogridError('CHAIN_UNAVAILABLE', `anvil is not installed for this platform`, {
      field: 'chain',
      value: pkg,
      expected:
        'npm install on linux-x64 (the embedded chain ships only that anvil build), or set chain.rpcUrl to an EVM node',
      cause,
    });
  }
}

export interface StartAnvilOptions {
  /** e.g. 'london' for Energy Web Chain's EVM. */
  hardfork?: string;
  /** Fixed port; default 0 (any free port). */
  port?: number;
  chainId?: number;
  /** Persist state to this file between runs (anvil --state). */
  stateFile?: string;
  /** Block time in seconds; default: a block per transaction. */
  blockTime?: number;
  gasLimit?: bigint;
  extraArgs?: string[];
}

export interface AnvilInstance {
  rpcUrl: string;
  port: number;
  pid: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startAnvil(opts: StartAnvilOptions = {}): Promise<AnvilInstance> {
  const args = ['--host', '127.0.0.1', '--port', String(opts.port ?? 0)];
  if (opts.hardfork) args.push('--hardfork', opts.hardfork);
  if (opts.chainId !== undefined) args.push('--chain-id', String(opts.chainId));
  if (opts.stateFile) args.push('--state', opts.stateFile);
  if (opts.blockTime !== undefined) args.push('--block-time', String(opts.blockTime));
  if (opts.gasLimit !== undefined) args.push('--gas-limit', String(opts.gasLimit));
  args.push(...(opts.extraArgs ?? []));
  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('anvil did not print "Listening on" within 15 s')), 15_000);
    const onData = (buf: Buffer) => {
      output += buf.toString();
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        // keep draining so anvil never blocks on a full pipe
        child.stdout?.on('data', () => {});
        resolve(Number(m[1]));
      }
    };
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        new MicrogridError(
          'CHAIN_UNAVAILABLE',
          `anvil failed to start: ${err.message}; output: ${output.slice(-500)}`,
          { cause: err },
        ),
      );
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`anvil exited with ${code}`)));
  });
  // If this process exits without stop() (a second Ctrl-C, a hard exit), anvil must not outlive it.
  // (A SIGKILLed parent runs no handler: the embedded chain's pid file covers that case on the next start.)
  const killOnExit = (): void => void child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      process.off('exit', killOnExit);
      r();
    }),
  );
  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}
