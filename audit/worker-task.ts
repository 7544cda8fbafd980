import type { MessagePort } from 'node:worker_threads';
import type { Tariffs } from '../settlement/statements.js';
import type { ChainInterval } from './chain.js';
import type { EvidenceMeterDataRules } from './evidence.js';

/** What every audit worker thread opens once (piscina's workerData): the ledger, the chain and the rules. */
export interface WorkerInput {
  ledgerPath: string;
  rpcUrl: string;
  contract: string;
  intervalMs: number;
  tariffs: Tariffs;
  meterData?: EvidenceMeterDataRules;
}

/**
 * One task: a run of interval starts with their chain views, and a port the worker posts progress on (intervals done
 * since its last post).
 */
export interface AuditRun {
  starts: number[];
  views: Map<number, ChainInterval>;
  progress: MessagePort;
}
