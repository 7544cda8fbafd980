import { encodeFunctionData, isAddressEqual, keccak256, parseTransaction, type Hex } from 'viem';
import { MicrogridError } from '../core/errors.js';
import { toIso } from '../core/interval.js';
import { nextJournalNonce, type JournalRow } from '../ledger/journal.js';
import { chunkFromJson, commitmentFromJson } from './plan.js';
import { classifyChainError, toChainError } from './chain-errors.js';
import { transactionOf } from './chain-reads.js';
import type { SubmitterContext } from './submitter-context.js';

export interface TransactionsOptions {
  /** Raise fees by this much on replacement (percent, at least 10: nodes refuse less). */
  feeBumpPercent: number;
  /** Called when a transaction was sent but before the journal says so (crash tests: the widest window). */
  onSent?: ((row: JournalRow) => void) | undefined;
}

/** The contract call a journal row stands for, encoded. */
export function contractCall(
  ctx: Pick<SubmitterContext, 'abi'>,
  r: JournalRow,
): { functionName: 'commit' | 'mintChunk'; args: readonly unknown[]; data: Hex } {
  if (r.action === 'commit') {
    const args = [commitmentFromJson(r.payload!)] as const;
    return { functionName: 'commit', args, data: encodeFunctionData({ abi: ctx.abi, functionName: 'commit', args }) };
  }
  const p = chunkFromJson(r.payload!);
  const args = [p.commitment, p.chunk, p.proof, p.words] as const;
  return {
    functionName: 'mintChunk',
    args,
    data: encodeFunctionData({ abi: ctx.abi, functionName: 'mintChunk', args }),
  };
}

/**
 * Fees for a same-nonce replacement: the old ones raised by `percent` (nodes refuse less than 10), or the current
 * estimate if higher.
 */
export function bumpedFees(
  old: { maxFeePerGas?: bigint | undefined; maxPriorityFeePerGas?: bigint | undefined; gasPrice?: bigint | undefined },
  current: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
  percent: number,
): { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } {
  const bump = (v: bigint) => (v * BigInt(100 + percent)) / 100n + 1n;
  const max = (...vs: bigint[]) => vs.reduce((a, b) => (a > b ? a : b));
  const maxPriorityFeePerGas = max(bump(old.maxPriorityFeePerGas ?? 0n), current.maxPriorityFeePerGas);
  return {
    maxPriorityFeePerGas,
    maxFeePerGas: max(bump(old.maxFeePerGas ?? old.gasPrice ?? 0n), current.maxFeePerGas, maxPriorityFeePerGas),
  };
}

/**
 * Signing, nonces and fee bumps: a row from planned to signed, from signed to broadcast, and its replacement when
 * stuck.
 */
export class Transactions {
  readonly #ctx: SubmitterContext;
  readonly #o: TransactionsOptions;

  constructor(ctx: SubmitterContext, opts: TransactionsOptions) {
    this.#ctx = ctx;
    this.#o = opts;
  }

  /** Simulates, signs and stores. Returns null when the action must wait (e.g. the commit is not mined yet). */
  async sign(r: JournalRow): Promise<JournalRow | null> {
    const ctx = this.#ctx;
    const { data, functionName, args } = contractCall(ctx, r);
    let gas: bigint;
    try {
      // the simulation: estimateContractGas runs the call and decodes a revert with the contract's ABI
      gas = await ctx.client.estimateContractGas({
        address: ctx.contract,
        abi: ctx.abi,
        functionName,
        args,
        account: ctx.account,
      });
    } catch (err) {
      const f = classifyChainError(err, ctx.abi);
      if (f.kind !== 'revert') throw toChainError(err, ctx.rpcUrl, ctx.abi);
      if (f.reason === 'AlreadyCommitted' || f.reason === 'ChunkAlreadyMinted') {
        return ctx.journal.update(r, {
          state: 'mined',
          blockNumber: Number(await ctx.client.getBlockNumber()),
          error: `found done on chain (${f.reason})`,
        });
      }
      if (f.reason === 'NotCommitted') return null; // the commit is not mined yet
      ctx.journal.update(r, { error: f.cause });
      throw new MicrogridError(
        'CHAIN_REJECTED',
        `interval ${toIso(r.intervalStart)}: ${r.action} ${r.chunk} would revert with ${f.cause}`,
        { value: f.reason, cause: err },
      );
    }
    // The chain's count, not the journal's: after a rollback the journal is ahead, and a nonce above the
    // chain's would wait behind a gap for ever. (Rows are signed one at a time, each after the one before
    // is mined, so no transaction of ours is signed and unsent here.)
    const nonce = await this.#chainNonce();
    const journalNext = nextJournalNonce(ctx.ledger, ctx.chainId);
    if (journalNext !== null && journalNext > nonce)
      ctx.journal.emit(r.intervalStart, 'nonce-from-chain', null, `journal at nonce ${journalNext}, chain at ${nonce}`);
    const fees = await ctx.client.estimateFeesPerGas();
    const raw = await ctx.account.signTransaction({
      chainId: ctx.chainId,
      type: 'eip1559',
      to: ctx.contract,
      data,
      nonce,
      gas: (gas * 125n) / 100n,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    return ctx.journal.update(r, { state: 'signed', nonce, rawTx: raw, txHash: keccak256(raw), error: null });
  }

  /** Sends the stored bytes (after a crash: the same ones). Null when the row cannot go on as it is. */
  async send(r: JournalRow): Promise<JournalRow | null> {
    const ctx = this.#ctx;
    const to = parseTransaction(r.rawTx!).to;
    if (!to || !isAddressEqual(to, ctx.contract)) {
      // signed for a contract this chain no longer has (a fresh chain deployed it elsewhere)
      ctx.journal.replan(r, `signed for ${to ?? 'no address'}, the contract is now ${ctx.contract}`);
      return null;
    }
    if (await this.behindGap(r)) return null;
    try {
      await ctx.client.sendRawTransaction({ serializedTransaction: r.rawTx! });
    } catch (err) {
      const f = classifyChainError(err, ctx.abi);
      if (f.kind !== 'nonce-used' && f.kind !== 'underpriced') throw toChainError(err, ctx.rpcUrl, ctx.abi);
      // viem folds "already known" into NonceTooLowError: whether the node holds this very transaction decides
      const held = await transactionOf(ctx, r.txHash!);
      if (!held) {
        // another transaction took this nonce: the contract decides whether the action is still to do
        ctx.journal.replan(r, `nonce ${r.nonce} taken: ${f.cause}`);
        return null;
      }
      // mined already: the receipt step takes it from here
      if (held.blockNumber !== null) return ctx.journal.update(r, { state: 'broadcast' });
      // pending in the node's pool: as good as sent
    }
    this.#o.onSent?.(r);
    ctx.journal.emit(r.intervalStart, `${r.action}:${r.chunk}:broadcast`, r.txHash);
    return ctx.journal.update(r, { state: 'broadcast' });
  }

  /**
   * A transaction whose nonce is above the chain's next one waits for ever
   * (the 08:30 commit: nonce 3 on a chain expecting 1). When the node
   * holds it, the gap is filled with empty transfers to ourselves, so it runs
   * as signed; when not, the action is planned again at the chain's nonce.
   * True when the row cannot go on as it is now.
   */
  async behindGap(r: JournalRow): Promise<boolean> {
    const ctx = this.#ctx;
    const next = await this.#chainNonce();
    if (r.nonce === null || r.nonce <= next) return false;
    if (!(await transactionOf(ctx, r.txHash!))) {
      ctx.journal.replan(r, `nonce ${r.nonce} is above the chain's next nonce ${next}: signed again at the chain's`);
      return true;
    }
    const fees = await ctx.client.estimateFeesPerGas();
    for (let nonce = next; nonce < r.nonce; nonce++) {
      const raw = await ctx.account.signTransaction({
        chainId: ctx.chainId,
        type: 'eip1559',
        to: ctx.account.address,
        value: 0n,
        gas: 21_000n,
        nonce,
        maxFeePerGas: fees.maxFeePerGas,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
      });
      await ctx.client.sendRawTransaction({ serializedTransaction: raw }).catch((err: unknown) => {
        // someone filled this nonce meanwhile: fine
        const f = classifyChainError(err, ctx.abi);
        if (f.kind !== 'nonce-used' && f.kind !== 'underpriced') throw toChainError(err, ctx.rpcUrl, ctx.abi);
      });
    }
    ctx.journal.emit(r.intervalStart, `${r.action}:${r.chunk}:gap-filled`, r.txHash);
    return false;
  }

  /** Same nonce, same call, fees raised by feeBumpPercent (or to the current estimate if higher). */
  async replace(r: JournalRow): Promise<void> {
    const ctx = this.#ctx;
    const { data } = contractCall(ctx, r);
    const old = await ctx.client.getTransaction({ hash: r.txHash! });
    const fees = bumpedFees(old, await ctx.client.estimateFeesPerGas(), this.#o.feeBumpPercent);
    const raw = await ctx.account.signTransaction({
      chainId: ctx.chainId,
      type: 'eip1559',
      to: ctx.contract,
      data,
      nonce: r.nonce!,
      gas: old.gas,
      ...fees,
    });
    ctx.journal.replace(
      r,
      { rawTx: raw, txHash: keccak256(raw) },
      `stuck for ${ctx.now() - r.updatedAt} ms: replaced with fees ×${1 + this.#o.feeBumpPercent / 100}`,
    );
  }

  #chainNonce(): Promise<number> {
    return this.#ctx.client.getTransactionCount({ address: this.#ctx.account.address, blockTag: 'pending' });
  }
}
