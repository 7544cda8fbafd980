import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { MicrogridError } from '../../core/errors.js';
import { anvilBinary } from './anvil.js';
import { anvilsOf, portOf, processAlive, stopProcess } from './anvil-processes.js';

export interface StartEmbeddedChainOptions {
  /** The app's data folder; the chain's state lives in <dataDir>/chain/. */
  dataDir: string;
  /** e.g. 'london' to run Energy Web Chain's EVM. */
  hardfork?: string;
  /** Fixed port; default any free loopback port. */
  port?: number;
  /** How often to check that anvil still runs, and restart it if not (ms). */
  superviseMs?: number;
}

export interface EmbeddedChain {
  rpcUrl: string;
  chainId: 31337;
  port: number;
  /** anvil's pid now (a restart after anvil died changes it). */
  readonly pid: number;
  hardfork: string | undefined;
  /** True when this start found the anvil of an earlier run still serving the chain and kept it. */
  attached: boolean;
  /** How many times anvil was found dead and started again from the state file. */
  readonly restarts: number;
  /**
   * Writes the chain as it is now to the state file, atomically (temporary
   * file, fsync, rename). The submitter calls it before it calls anything
   * final, so a SIGKILL of anvil never loses a block the ledger relies on.
   */
  persist(): Promise<void>;
  stop(): Promise<void>;
}

/** <dataDir>/chain/anvil.pid: which anvil serves this chain, and where. */
interface AnvilRecord {
  pid: number;
  port: number;
  stateFile: string;
}

/**
 * The default chain when no RPC URL is configured: anvil from node_modules on
 * 127.0.0.1, a block per transaction, state in
 * <dataDir>/chain/anvil-state[-<hardfork>].json.
 *
 * A power cut must lose nothing the ledger calls final (docs/settlement.md,
 * "Chains", has the measurements behind this layout):
 * - anvil runs in its own session (detached), so a kill of the app's process
 *   group leaves it running; its pid and port are in anvil.pid and the next
 *   start attaches to it instead of starting another;
 * - the state file is written only by us (`anvil_dumpState`, written
 *   atomically) whenever the submitter is about to call something final, and
 *   on stop; anvil only loads it (`--load-state`). anvil's own
 *   `--state-interval` dump loses the blocks of the last interval on a
 *   SIGKILL and writes the file in place;
 * - while the app runs, an anvil that died is started again from that file on
 *   the same port, so the submitter's URL stays valid; what it lost was not
 *   final, and the submitter's reconciliation sends it again.
 * Every other anvil on this chain folder (a pid file lost, an app killed
 * before it wrote one) is stopped before a new one starts.
 */
export async function startEmbeddedChain(opts: StartEmbeddedChainOptions): Promise<EmbeddedChain> {
  // Absolute, so the chain folder compares equal to a leftover anvil's cwd whatever our cwd is.
  const dir = join(resolve(opts.dataDir), 'chain');
  mkdirSync(dir, { recursive: true });
  const stateFile = join(dir, opts.hardfork ? `anvil-state-${opts.hardfork}.json` : 'anvil-state.json');
  const pidFile = join(dir, 'anvil.pid');

  const record = readRecord(pidFile);
  let attached = false;
  let pid = -1;
  let port = opts.port ?? 0;
  let child: ChildProcess | undefined;
  if (
    record &&
    record.stateFile === stateFile &&
    (opts.port === undefined || opts.port === record.port) &&
    anvilsOf(dir, stateFile).includes(record.pid) &&
    (await answers(record.port))
  ) {
    attached = true;
    pid = record.pid;
    port = record.port;
  }
  for (const other of anvilsOf(dir, stateFile)) {
    if (other === pid || other === process.pid) continue;
    // Not attached: a leftover nobody recorded may hold blocks the file lacks; keep them before it goes.
    const leftoverPort = attached ? undefined : portOf(other);
    if (leftoverPort !== undefined) await dumpTo(leftoverPort, stateFile).catch(() => {});
    await stopProcess(other);
  }
  if (!attached) {
    rmSync(pidFile, { force: true });
    ({ pid, port, child } = await launch(dir, stateFile, opts.hardfork, port));
    writeRecord(pidFile, { pid, port, stateFile });
  }

  const rpcUrl = `http://127.0.0.1:${port}`;
  let restarts = 0;
  let stopping = false;
  let lastPersisted: string | null = null;
  let persisting: Promise<void> = Promise.resolve();
  let restarting: Promise<void> | undefined;

  const persistNow = async (): Promise<void> => {
    const head = (await rpc(port, 'eth_getBlockByNumber', ['latest', false])) as { hash: string } | null;
    if (head && head.hash === lastPersisted) return;
    await dumpTo(port, stateFile);
    lastPersisted = head?.hash ?? null;
  };
  const persist = (): Promise<void> => (persisting = persisting.catch(() => {}).then(persistNow));

  // Runs while the app does: an anvil that died (SIGKILL, OOM) comes back from the state file.
  const supervise = setInterval(() => {
    if (stopping || restarting || processAlive(pid)) return;
    restarting = (async () => {
      for (let attempt = 0; !stopping; attempt++) {
        try {
          ({ pid, child } = await launch(dir, stateFile, opts.hardfork, port));
          writeRecord(pidFile, { pid, port, stateFile });
          lastPersisted = null;
          restarts++;
          return;
        } catch {
          // the port may still be held for a moment; try again
          await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 2000)));
        }
      }
    })().finally(() => (restarting = undefined));
  }, opts.superviseMs ?? 250);
  supervise.unref();

  // A hard exit of the app (a second Ctrl-C) runs no stop(): anvil must not outlive a process that exits.
  // (A SIGKILL runs no handler at all: then anvil lives on, and the next start attaches to it.)
  const killOnExit = (): void => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.on('exit', killOnExit);

  return {
    rpcUrl,
    chainId: 31337,
    port,
    get pid() {
      return pid;
    },
    hardfork: opts.hardfork,
    attached,
    get restarts() {
      return restarts;
    },
    persist,
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(supervise);
      await restarting;
      try {
        await persist();
      } catch {
        // anvil is not answering: the file keeps the last state persisted
      }
      process.off('exit', killOnExit);
      // our own child is reaped by its exit event, which an unref'd child would never deliver
      child?.ref();
      const exited =
        child && child.exitCode === null && child.signalCode === null
          ? new Promise((r) => child!.once('exit', r))
          : undefined;
      await stopProcess(pid);
      await exited;
      // only our own record: a later instance may have written its own
      if (readRecord(pidFile)?.pid === pid) rmSync(pidFile, { force: true });
    },
  };
}

/** Starts anvil detached (its own session) on `port` (0: a free one), loading the state file if there is one. */
async function launch(
  dir: string,
  stateFile: string,
  hardfork: string | undefined,
  port: number,
): Promise<{ pid: number; port: number; child: ChildProcess }> {
  const p = port || (await freePort());
  const args = ['--host', '127.0.0.1', '--port', String(p), '--chain-id', '31337'];
  if (hardfork) args.push('--hardfork', hardfork);
  if (existsSync(stateFile)) args.push('--load-state', stateFile);
  // stdout (a line per request) goes nowhere; stderr to a file, for a failed start. No pipes: the app may die first.
  const logFile = join(dir, 'anvil.log');
  const log = openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(anvilBinary(), args, { cwd: dir, detached: true, stdio: ['ignore', 'ignore', log] });
  } finally {
    closeSync(log);
  }
  child.unref();
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  for (let waited = 0; ; waited += 50) {
    if (await answers(p)) break;
    if (exited || waited > 15_000) {
      if (!exited) child.kill('SIGKILL');
      const output = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-500) : '';
      throw new MicrogridError(
        'CHAIN_UNAVAILABLE',
        `anvil failed to start on 127.0.0.1:${p}${output ? `: ${output}` : ''}`,
        { field: 'chain', value: stateFile, expected: 'anvil answering eth_chainId within 15 s' },
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { pid: child.pid ?? -1, port: p, child };
}

/** anvil_dumpState (gzipped JSON, hex) of the anvil on `port`, written to `file` as the JSON `--load-state` reads. */
async function dumpTo(port: number, file: string): Promise<void> {
  const dump = (await rpc(port, 'anvil_dumpState', [])) as string;
  writeAtomic(file, gunzipSync(Buffer.from(dump.slice(2), 'hex')));
}

async function rpc(port: number, method: string, params: unknown[]): Promise<unknown> {
  let body: { result?: unknown; error?: { message: string } };
  try {
    const r = await fetch(`http://127.0.0.1:${port}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(10_000),
    });
    body = (await r.json()) as typeof body;
  } catch (cause) {
    throw new MicrogridError('CHAIN_UNAVAILABLE', `the embedded chain does not answer ${method}`, {
      field: 'chain',
      value: `http://127.0.0.1:${port}`,
      expected: 'a running anvil',
      cause,
    });
  }
  if (body.error)
    throw new MicrogridError('CHAIN_REJECTED', `anvil refused ${method}: ${body.error.message}`, {
      field: 'chain',
      value: method,
    });
  return body.result;
}

async function answers(port: number): Promise<boolean> {
  try {
    return (await rpc(port, 'eth_chainId', [])) === '0x7a69';
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolvePort(a.port) : reject(new Error('no port'))));
    });
  });
}

function readRecord(file: string): AnvilRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<AnvilRecord>;
    return typeof r.pid === 'number' && typeof r.port === 'number' && typeof r.stateFile === 'string'
      ? (r as AnvilRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

function writeRecord(file: string, r: AnvilRecord): void {
  writeAtomic(file, Buffer.from(JSON.stringify(r) + '\n'));
}

/**
 * Temporary file, fsync, rename, fsync of the folder: after a power cut the file is the old one or the new one, whole.
 */
function writeAtomic(file: string, data: Buffer): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    for (let off = 0; off < data.length;) off += writeSync(fd, data, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const d = openSync(dirname(file), 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}
