import { parentPort, workerData } from 'node:worker_threads';
import { openLedger } from '../ledger/ledger.js';
import type { Tariffs } from '../settlement/statements.js';
import { ChainReader, type ChainInterval } from './chain.js';
import { EvidenceLoader, type EvidenceMeterDataRules, type IntervalEvidence } from './evidence.js';
import { auditEvidence } from './audit.js';
import { SignerCache, warmUp } from './signatures.js';
import type { IntervalAudit } from './types.js';

/**
 * An audit worker thread (audit.ts runs two on a multi-core machine). It
 * starts while the main thread still reads the chain, builds the generator
 * table meanwhile, then audits the runs of intervals it is handed one after
 * another — whichever worker is free takes the next, so a worker slowed by
 * other work on the machine does not hold the others up — keeping its
 * signer cache (and so each gateway's key table) from one run to the next.
 */
export interface WorkerInput {
  ledgerPath: string;
  rpcUrl: string;
  contract: string;
  intervalMs: number;
  tariffs: Tariffs;
  meterData?: EvidenceMeterDataRules;
}

/** From the main thread: a run of interval starts with their chain views, or the end. */
export type ToWorker = { starts: number[]; views: Map<number, ChainInterval> } | { end: true };
/** To the main thread: ready for work, progress (intervals done), or a run's results. */
export type FromWorker = { ready: true } | { progress: number } | { done: IntervalAudit[] };

const input = workerData as WorkerInput;
const port = parentPort!;
const ledger = openLedger(input.ledgerPath, { readonly: true });
const loader = new EvidenceLoader(ledger, input.intervalMs, input.meterData);
const reader = new ChainReader({ rpcUrl: input.rpcUrl, contract: input.contract });
const signers = new SignerCache();
warmUp();
const post = (m: FromWorker) => port.postMessage(m);
port.on('message', (m: ToWorker) => {
  if ('end' in m) {
    ledger.close();
    port.close();
    return;
  }
  const job = m;
  // eslint-disable-next-line @typescript-eslint/no-floating-promises -- a failure ends the thread on purpose (below)
  void (async () => {
    function* evidences(): Generator<IntervalEvidence> {
      for (const s of job.starts) yield loader.load(s);
    }
    let reported = 0;
    const out = await auditEvidence(evidences(), job.starts.length, job.views, reader, input.tariffs, (done) => {
      if (done - reported >= 5) {
        post({ progress: done - reported });
        reported = done;
      }
    }, signers);
    if (job.starts.length > reported) post({ progress: job.starts.length - reported });
    post({ done: out });
  })(); // a failure is an unhandled rejection: it ends the thread, and the main thread's 'error' handler rejects the audit
});
post({ ready: true });
