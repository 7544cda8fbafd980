import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ChainInterval } from './chain.js';
import type { IntervalAudit } from './types.js';
import type { AuditRun, WorkerInput } from './worker-task.js';
import { carriedCode } from './worker-error.js';
import { MicrogridError } from '../core/errors.js';

/**
 * Intervals per run handed to a worker: small enough to even out two threads, large enough for few balanceOfBatch
 * rounds — and for few run edges: an interval's series reaches ~6 intervals either side, and a worker's run starts
 * without its neighbour's readings and verdicts (at 48, a quarter more readings were read and signatures checked).
 */
const RUN = 96;

/**
 * `n` audit worker threads (worker.ts), started before the chain is read so
 * their start-up (module loading, the generator table) overlaps it. `audit`
 * then queues runs of consecutive intervals, each with its chain views;
 * piscina hands the next to whichever worker is free, so a worker slowed by
 * other work on the machine does not hold the others up.
 */
export function startWorkers(input: WorkerInput, n: number, onProgress?: (done: number, total: number) => void) {
  const pool = new Piscina<AuditRun, IntervalAudit[]>({
    filename: new URL('./worker-boot.mjs', import.meta.url).href,
    workerData: input,
    minThreads: n,
    maxThreads: n,
    idleTimeout: Infinity,
    // A larger young generation than V8 gives a worker (192 MB as resourceLimits counts it, both semi-spaces and the
    // young large-object space): an audit of 480 intervals allocates ~8.6 GB,
    // nearly all short-lived (a third of it the signature arithmetic's bigints), and with the default each worker spent
    // 7–8.5 % of its profile in the garbage collector, 5–6 % with this (480 × 100, two workers: 3.8 → 2.4 s).
    resourceLimits: { maxYoungGenerationSizeMb: 192 },
  });
  // A worker that fails outside a task (its module body: the ledger does not
  // open) is an 'error' of the pool, which would otherwise end the process; it
  // fails the audit instead.
  let failure: Error | undefined;
  let fail = (_e: Error): void => {};
  pool.on('error', (cause: unknown) => {
    failure ??= new Error(`an audit worker failed to start: ${(cause as Error).message}`, { cause });
    fail(failure);
  });
  async function audit(starts: readonly number[], views: ReadonlyMap<number, ChainInterval>): Promise<IntervalAudit[]> {
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
      if (failure) reject(failure);
    });
    let done = 0;
    const runs = Array.from({ length: Math.ceil(starts.length / RUN) }, (_, i) => starts.slice(i * RUN, (i + 1) * RUN));
    const all = Promise.all(
      runs.map(async (run) => {
        const mine = new Map<number, ChainInterval>();
        for (const s of run) {
          const v = views.get(Math.floor(s / 1000));
          if (v) mine.set(v.tokenId, v);
        }
        const { port1, port2 } = new MessageChannel();
        port1.on('message', (k: number) => onProgress?.((done += k), starts.length));
        try {
          return await pool.run({ starts: run, views: mine, progress: port2 }, { transferList: [port2] });
        } catch (cause) {
          // The worker's error arrives structured-cloned (message, stack and cause kept; its class and code not): its
          // message is repeated for the CLI, which prints only the outer one.
          const message = `an audit worker failed on the ${run.length} intervals from ${new Date(run[0]!).toISOString()}: ${(cause as Error).message}`;
          const code = carriedCode(cause);
          throw code === undefined ? new Error(message, { cause }) : new MicrogridError(code, message, { cause });
        } finally {
          port1.close();
        }
      }),
    );
    const results = await Promise.race([all, failed]);
    onProgress?.(starts.length, starts.length);
    return results.flat();
  }
  return { audit, stop: () => pool.destroy() };
}
