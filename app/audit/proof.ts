import type { Ledger } from '../../ledger/ledger.js';
export async function householdProof(_o: { ledger: Ledger; rpcUrl: string; contract: string; start: number; intervalMs: number; participant: string; fromBlock?: bigint }): Promise<{ verified: boolean }> {
  throw new Error('not yet');
}
