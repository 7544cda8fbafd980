import type { Ledger } from '../../ledger/ledger.js';
import type { Tariffs } from '../../settlement/statements.js';
import type { AuditReport } from './types.js';
export async function exportBundle(_o: { ledger: Ledger; rpcUrl: string; contract: string; start: number; intervalMs: number; tariffs: Tariffs; out: string; fromBlock?: bigint }): Promise<{ path: string; readings: number; orders: number; trades: number; credits: number; transactions: number }> {
  throw new Error('not yet');
}
export async function verifyBundle(_file: string, _o: { rpcUrl: string; fromBlock?: bigint }): Promise<AuditReport> {
  throw new Error('not yet');
}
