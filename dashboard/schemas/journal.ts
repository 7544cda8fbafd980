import { Type } from '@fastify/type-provider-typebox';
import type { listJournal } from '../../ledger/journal.js';
import { iso } from '../http.js';
import { Nullable } from './nullable.js';

/**
 * One settlement journal entry (a chain action of an interval), as the API sends it (intervals, audit, journal list).
 */
export const JournalOut = Type.Object({
  interval: Type.String(),
  action: Type.String(),
  chunk: Type.Integer(),
  state: Type.String(),
  chainId: Nullable(Type.Integer()),
  txHash: Nullable(Type.String()),
  blockNumber: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  updatedAt: Type.String(),
});

export function journalOut(j: ReturnType<typeof listJournal>[number]): typeof JournalOut.static {
  return {
    interval: iso(j.intervalStart)!,
    action: j.action,
    chunk: j.chunk,
    state: j.state,
    chainId: j.chainId,
    txHash: j.txHash,
    blockNumber: j.blockNumber,
    error: j.error,
    updatedAt: iso(j.updatedAt)!,
  };
}
