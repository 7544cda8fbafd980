import type { GetTransactionReturnType, Hex, TransactionReceipt } from 'viem';
import type { JournalRow } from '../ledger/journal.js';
import { commitmentHash, type Commitment } from './chain/commitment.js';
import { chunkFromJson, commitmentFromJson } from './plan.js';
import { isTransportError, toChainError } from './chain-errors.js';
import type { SubmitterContext } from './submitter-context.js';

/**
 * The chain reads the submitter decides by. A node that does not answer is
 * CHAIN_UNAVAILABLE (thrown); one that answers "no such transaction" is null.
 */
export async function receiptOf(ctx: SubmitterContext, hash: Hex): Promise<TransactionReceipt | null> {
  try {
    return await ctx.client.getTransactionReceipt({ hash });
  } catch (err) {
    if (isTransportError(err)) throw toChainError(err, ctx.rpcUrl, ctx.abi);
    return null;
  }
}

/** The transaction as the node holds it (pending or mined), or null when it holds none by that hash. */
export async function transactionOf(ctx: SubmitterContext, hash: Hex): Promise<GetTransactionReturnType | null> {
  try {
    return await ctx.client.getTransaction({ hash });
  } catch (err) {
    if (isTransportError(err)) throw toChainError(err, ctx.rpcUrl, ctx.abi);
    return null;
  }
}

/** The commitment a row's payload carries (the commit's own, or the one a mint chunk belongs to). */
export function commitmentOf(r: JournalRow): Commitment {
  return r.action === 'commit' ? commitmentFromJson(r.payload!) : chunkFromJson(r.payload!).commitment;
}

/** Whether the contract has the row's action done, whoever did it: the chain, not the journal, decides. */
export async function doneOnChain(ctx: SubmitterContext, r: JournalRow): Promise<boolean> {
  const commitment = commitmentOf(r);
  if (r.action === 'commit') {
    const h = (await ctx.client.readContract({
      address: ctx.contract,
      abi: ctx.abi,
      functionName: 'commitmentHash',
      args: [commitment.interval],
    })) as Hex;
    return h.toLowerCase() === commitmentHash(commitment).toLowerCase();
  }
  return (await ctx.client.readContract({
    address: ctx.contract,
    abi: ctx.abi,
    functionName: 'chunkMinted',
    args: [commitment.interval, r.chunk],
  })) as boolean;
}
