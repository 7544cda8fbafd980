import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Ledger } from '../ledger/ledger.js';
import { toIso } from '../core/interval.js';
import type { Tariffs } from '../settlement/statements.js';
import type { Credit } from '../settlement/credits.js';
import type { DeliveredTrade, MeteredEnergy } from '../settlement/delivery.js';
import { ChainReader, type ChainInterval } from './chain.js';
import { EvidenceLoader, type EvidenceMeterDataRules, type IntervalEvidence } from './evidence.js';
import { SignerCache } from './signatures.js';
import { checkEnergy } from './check-energy.js';
import { checkReadings, signatureItems } from './check-readings.js';
import { checkClearing } from './check-clearing.js';
import { checkCredits, expectedCredits, mintedOnChain } from './check-credits.js';
import { checkStatements } from './check-statements.js';
import { CHECKS, checkResult, type AuditReport, type IntervalAudit } from './types.js';
import type { FromWorker, ToWorker, WorkerInput } from './worker.js';

/** MGX_AUDIT_PROFILE=1 prints where the time goes (benchmarking). */
const PROFILE = !!process.env.MGX_AUDIT_PROFILE;

export interface AuditRange {
  /** Epoch ms, inclusive; interval starts. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
}

export interface AuditOptions extends AuditRange {
  ledger: Ledger;
  rpcUrl: string;
  contract: string;
  intervalMs: number;
  tariffs: Tariffs;
  fromBlock?: bigint;
  blockRange?: bigint;
  onProgress?: (done: number, total: number) => void;
  /** The window and gap the metering step validated with (meterDataRulesOf(config)); default: the rules' defaults. */
  meterData?: EvidenceMeterDataRules;
  /** Worker threads sharing the intervals (default: 2 on a multi-core machine for ≥ 200 intervals, else in-process). */
  workers?: number;
}

interface Pending {
  ev: IntervalEvidence;
  chain: ChainInterval | undefined;
  partial: IntervalAudit;
  delivered: DeliveredTrade[];
  energy: Map<string, MeteredEnergy>;
  credits: Credit[];
  creditsError: string | null;
}

/** The five checks over evidences (from the ledger or a bundle) against the chain views; shared by `mgx audit` and `mgx audit verify`. */
export async function auditEvidence(
  evidences: Iterable<IntervalEvidence>,
  count: number,
  chainViews: ReadonlyMap<number, ChainInterval>,
  reader: ChainReader,
  tariffs: Tariffs,
  onProgress?: (done: number, total: number) => void,
  signers = new SignerCache(),
): Promise<IntervalAudit[]> {
  const pending: Pending[] = [];
  let done = 0;
  const t = PROFILE ? new Map<string, number>() : undefined;
  const lap = (name: string, since: number): number => {
    const now = performance.now();
    t?.set(name, (t.get(name) ?? 0) + now - since);
    return now;
  };
  let at = performance.now();
  const iter = evidences[Symbol.iterator]();
  // Evidences are taken 48 at a time and their signatures checked in one
  // batch first (check 1 then finds them in the cache): a batch shares one
  // inversion per window row, so larger batches spend less on inversions.
  const ahead: IntervalEvidence[] = [];
  let taken = 0;
  for (;;) {
    if (taken === ahead.length) {
      ahead.length = taken = 0;
      while (ahead.length < 48) {
        const next = iter.next();
        if (next.done) break;
        ahead.push(next.value);
      }
      if (ahead.length === 0) break;
      at = lap('load', at);
      await signers.signers(ahead.flatMap(signatureItems));
      at = lap('readings', at);
    }
    const ev = ahead[taken++]!;
    const chain = chainViews.get(Math.floor(ev.start / 1000));
    const energy = checkEnergy(ev);
    at = lap('energy', at);
    const readings = await checkReadings(ev, chain, energy.byMeter, signers);
    at = lap('readings', at);
    const clearing = checkClearing(ev, chain, energy.actual, energy.tradable);
    at = lap('clearing', at);
    const statements = checkStatements(ev, clearing.delivered, energy.grid, energy.meterData, tariffs);
    at = lap('statements', at);
    const { credits, error } = expectedCredits(ev, clearing.delivered, energy.actual);
    at = lap('credits', at);
    pending.push({
      ev,
      chain,
      partial: { interval: ev.interval, tokenId: Math.floor(ev.start / 1000), pass: false, checks: [readings, energy.result, clearing.result, statements] },
      delivered: clearing.delivered,
      energy: energy.actual,
      credits,
      creditsError: error,
    });
    onProgress?.(++done, count);
  }
  const pairs = pending.flatMap((p) => {
    const accounts = new Set([...p.credits.map((c) => c.account.toLowerCase()), ...mintedOnChain(p.chain).keys()]);
    return [...accounts].map((account) => ({ account, id: Math.floor(p.ev.start / 1000) }));
  });
  const balances = await reader.balances(pairs);
  at = lap('balances', at);
  const out: IntervalAudit[] = [];
  for (const p of pending) {
    const credits = await checkCredits(p.ev, p.chain, p.energy, { credits: p.credits, creditsError: p.creditsError, balances, transfers: (a, id) => reader.transfersOf(a, id) });
    const checks = [...p.partial.checks, credits].sort((a, b) => CHECKS.indexOf(a.check) - CHECKS.indexOf(b.check));
    out.push({ ...p.partial, checks, pass: checks.every((c) => c.pass) });
  }
  lap('check credits', at);
  if (t) process.stderr.write(`audit phases (ms): ${[...t].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}\n`);
  return out;
}

/** Credits on chain for an interval the ledger never settled: every check fails, naming each recipient. */
function chainOnly(chain: ChainInterval): IntervalAudit {
  const interval = toIso(chain.tokenId * 1000);
  const missing = (check: (typeof CHECKS)[number]) =>
    checkResult(check, {}, [{ interval, check, record: `interval ${chain.tokenId}`, message: 'committed on chain, but the ledger holds no settlement for it', expected: 'a settled interval in the ledger', found: 'none' }]);
  const credits = checkResult(
    'credits',
    { mintedWh: [...mintedOnChain(chain).values()].reduce((s, x) => s + x, 0n).toString(), expectedCreditsWh: 0 },
    [...mintedOnChain(chain)].map(([account, wh]) => ({ interval, check: 'credits' as const, record: `recipient ${account}`, message: 'credits minted on chain without metered energy in the ledger', expected: '0 Wh', found: `${wh} Wh` })),
  );
  if (credits.failures.length === 0) credits.failures.push({ interval, check: 'credits', record: `interval ${chain.tokenId}`, message: 'committed on chain, but the ledger holds no settlement for it', expected: 'none', found: 'Committed' });
  credits.pass = false;
  return { interval, tokenId: chain.tokenId, pass: false, checks: [missing('readings'), missing('energy'), missing('clearing'), credits, missing('statements')] };
}

/** Intervals per run handed to a worker: small enough to even out two threads, large enough for few balanceOfBatch rounds. */
const RUN = 48;

/**
 * Worker threads (worker.ts), started before the chain is read so their
 * start-up (module loading, the generator table) overlaps it. `audit` then
 * hands out runs of consecutive intervals, each with its chain views, to
 * whichever worker is free.
 */
function startWorkers(o: AuditOptions, n: number) {
  const input: WorkerInput = { ledgerPath: o.ledger.path, rpcUrl: o.rpcUrl, contract: o.contract, intervalMs: o.intervalMs, tariffs: o.tariffs, ...(o.meterData ? { meterData: o.meterData } : {}) };
  const workers = Array.from({ length: n }, () => {
    const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: input });
    // Listeners from the start: a worker that is ready before the chain is
    // read would otherwise announce it to nobody (and the audit would wait for ever).
    const state = {
      w,
      ended: false,
      failure: undefined as Error | undefined,
      onMessage: (_m: FromWorker): void => {},
      onFailure: (_e: Error): void => {},
      ready: undefined as unknown as Promise<void>,
    };
    state.ready = new Promise<void>((resolve) => w.on('message', (m: FromWorker) => ('ready' in m ? resolve() : state.onMessage(m))));
    const fail = (e: Error) => {
      state.failure ??= e;
      state.onFailure(state.failure);
    };
    w.on('error', fail);
    w.on('exit', (code) => (state.ended ? undefined : fail(new Error(`audit worker exited with ${code} before its work was done`))));
    return state;
  });
  const stop = () => Promise.all(workers.map((x) => x.w.terminate()));
  async function audit(starts: readonly number[], views: ReadonlyMap<number, ChainInterval>): Promise<IntervalAudit[]> {
    const runs = Array.from({ length: Math.ceil(starts.length / RUN) }, (_, i) => starts.slice(i * RUN, (i + 1) * RUN));
    const results: IntervalAudit[][] = [];
    let next = 0;
    let done = 0;
    await Promise.all(
      workers.map(
        (x) =>
          new Promise<void>((resolve, reject) => {
            let current = -1;
            const give = () => {
              if (next >= runs.length) {
                x.ended = true;
                x.w.postMessage({ end: true } satisfies ToWorker);
                resolve();
                return;
              }
              current = next++;
              const run = runs[current]!;
              const mine = new Map<number, ChainInterval>();
              for (const s of run) {
                const v = views.get(Math.floor(s / 1000));
                if (v) mine.set(v.tokenId, v);
              }
              x.w.postMessage({ starts: run, views: mine } satisfies ToWorker);
            };
            x.onMessage = (m) => {
              if ('progress' in m) o.onProgress?.((done += m.progress), starts.length);
              else if ('done' in m) {
                results[current] = m.done;
                give();
              }
            };
            x.onFailure = reject;
            if (x.failure) reject(x.failure);
            // eslint-disable-next-line @typescript-eslint/no-floating-promises -- ready only resolves; a worker's failure arrives through onFailure
            else void x.ready.then(give);
          }),
      ),
    );
    o.onProgress?.(starts.length, starts.length);
    return results.flat();
  }
  return { audit, stop };
}

/** `mgx audit`: every interval in [from, to) the ledger settled or the chain committed, checked against the chain through its RPC. */
export async function runAudit(o: AuditOptions): Promise<AuditReport> {
  const t0 = performance.now();
  const loader = new EvidenceLoader(o.ledger, o.intervalMs, o.meterData);
  const starts = loader.settledStarts(o.from, o.to);
  const settled = new Set(starts.map((s) => Math.floor(s / 1000)));
  const n = o.workers ?? (starts.length >= 200 && o.ledger.path !== ':memory:' ? Math.min(2, availableParallelism()) : 1);
  const pool = n > 1 ? startWorkers(o, n) : undefined;
  let audited: IntervalAudit[];
  let reader: ChainReader;
  let chainId: number;
  let views: Map<number, ChainInterval>;
  try {
    reader = new ChainReader({ rpcUrl: o.rpcUrl, contract: o.contract, ...(o.fromBlock !== undefined ? { fromBlock: o.fromBlock } : {}), ...(o.blockRange !== undefined ? { blockRange: o.blockRange } : {}) });
    chainId = await reader.chainId();
    await reader.assertContract();
    const tc = performance.now();
    views = await reader.readIntervals(Math.floor(o.from / 1000), Math.ceil(o.to / 1000));
    if (PROFILE) process.stderr.write(`audit chain events and calldata: ${(performance.now() - tc).toFixed(0)} ms\n`);
    function* evidences(): Generator<IntervalEvidence> {
      for (const s of starts) yield loader.load(s);
    }
    audited = pool ? await pool.audit(starts, views) : await auditEvidence(evidences(), starts.length, views, reader, o.tariffs, o.onProgress);
  } finally {
    await pool?.stop();
  }
  for (const v of views.values()) if (!settled.has(v.tokenId)) audited.push(chainOnly(v));
  audited.sort((a, b) => a.tokenId - b.tokenId);
  const seconds = (performance.now() - t0) / 1000;
  const passed = audited.filter((i) => i.pass).length;
  return {
    from: toIso(o.from),
    to: toIso(o.to),
    contract: reader.contract,
    chainId,
    intervals: audited,
    pass: passed === audited.length,
    passed,
    failed: audited.length - passed,
    seconds,
    intervalsPerSecond: audited.length / Math.max(seconds, 1e-9),
  };
}
