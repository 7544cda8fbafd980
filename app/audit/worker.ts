import { parentPort, workerData } from 'node:worker_threads';
import { openLedger } from '../../ledger/ledger.js';
import { computeIntervalEnergy } from '../../ledger/readings.js';
import type { Tariffs } from '../../settlement/statements.js';
import { ChainReader, type ChainInterval } from './chain.js';
import { EvidenceLoader, type IntervalEvidence } from './evidence.js';
import { auditEvidence } from './audit.js';

/** One share of an audit's intervals, in a worker thread (audit.ts splits the range when the machine has more than one core). */
export interface WorkerInput {
  ledgerPath: string;
  rpcUrl: string;
  contract: string;
  starts: number[];
  intervalMs: number;
  tariffs: Tariffs;
  views: Map<number, ChainInterval>;
}

const input = workerData as WorkerInput;
const ledger = openLedger(input.ledgerPath, { readonly: true });
try {
  const loader = new EvidenceLoader(ledger, input.intervalMs);
  function* evidences(): Generator<IntervalEvidence> {
    for (const s of input.starts) yield loader.load(s);
  }
  const reader = new ChainReader({ rpcUrl: input.rpcUrl, contract: input.contract });
  const out = await auditEvidence(evidences(), input.starts.length, input.views, reader, (m, s, e) => computeIntervalEnergy(ledger, m, s, e), input.tariffs, (done) => {
    if (done % 10 === 0) parentPort?.postMessage({ progress: 10 });
  });
  parentPort?.postMessage({ done: out });
} finally {
  ledger.close();
}
