import { workerData } from 'node:worker_threads';
import { openLedger } from '../ledger/ledger.js';
import { ChainReader } from './chain.js';
import { EvidenceLoader, type IntervalEvidence } from './evidence.js';
import { auditEvidence } from './audit-evidence.js';
import { SignerCache, warmUp } from './signatures.js';
import type { IntervalAudit } from './types.js';
import type { AuditRun, WorkerInput } from './worker-task.js';
import { carryCode } from './worker-error.js';

/**
 * An audit worker thread of the piscina pool (worker-pool.ts; loaded through
 * worker-boot.mjs). Its module body runs while the main thread still reads
 * the chain: it opens the ledger and builds the generator table then. It
 * audits the runs it is handed one after another, keeping its signer cache
 * (and so each gateway's key table) from one run to the next.
 */

const input = workerData as WorkerInput;
const ledger = openLedger(input.ledgerPath, { readonly: true });
const loader = new EvidenceLoader(ledger, input.intervalMs, input.meterData);
const reader = new ChainReader({ rpcUrl: input.rpcUrl, contract: input.contract });
const signers = new SignerCache();
warmUp();

export default async function auditRun(run: AuditRun): Promise<IntervalAudit[]> {
  function* evidences(): Generator<IntervalEvidence> {
    for (let i = 0; i < run.starts.length; i++) yield loader.load(run.starts[i]!, run.starts.length - 1 - i);
  }
  let reported = 0;
  try {
    const out = await auditEvidence(
      evidences(),
      run.starts.length,
      run.views,
      reader,
      input.tariffs,
      (done) => {
        // every 5 intervals: a message per interval would cost more than the progress bar is worth
        if (done - reported >= 5) {
          run.progress.postMessage(done - reported);
          reported = done;
        }
      },
      signers,
    );
    if (run.starts.length > reported) run.progress.postMessage(run.starts.length - reported);
    return out;
  } catch (err) {
    throw carryCode(err);
  } finally {
    run.progress.close();
  }
}
