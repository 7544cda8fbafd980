import { getInterval, advanceInterval } from '../ledger/intervals.js';
import {
  journalRowById,
  newestOnChainRow,
  onChainJournalIds,
  replacedRows,
  type JournalRow,
} from '../ledger/journal.js';
import { doneOnChain, receiptOf, transactionOf } from './chain-reads.js';
import type { SubmitterContext } from './submitter-context.js';
import type { Transactions } from './transactions.js';

export interface ReceiptsOptions {
  /** Depth at which a transaction is final. */
  confirmations: number;
  /** Replace a transaction not mined after this long (ms). */
  stuckAfterMs: number;
  /** Makes the chain's current blocks durable; awaited before any row becomes final. */
  persist?: (() => Promise<void>) | undefined;
}

/**
 * Receipts and reorgs: a broadcast row to mined (or replaced, when stuck),
 * a mined row to final at depth, and the journal checked against the chain
 * it finds (a rolled-back or restored node, an embedded anvil that lost its
 * last blocks, a fork).
 */
export class Receipts {
  readonly #ctx: SubmitterContext;
  readonly #tx: Transactions;
  readonly #o: ReceiptsOptions;
  /** False until the journal was checked against this chain (each start, and after a receipt went missing). */
  #reconciled = false;

  constructor(ctx: SubmitterContext, tx: Transactions, opts: ReceiptsOptions) {
    this.#ctx = ctx;
    this.#tx = tx;
    this.#o = opts;
  }

  get reconciled(): boolean {
    return this.#reconciled;
  }

  /**
   * Reconciles when the journal was not checked against this chain yet, or the newest mined/final transaction is gone.
   */
  async reconcileIfNeeded(): Promise<void> {
    if (!this.#reconciled || (await this.#newestGone())) await this.#reconcile();
  }

  /** A broadcast row: mined (by it or by a transaction it replaced), dropped (signed again), or still waiting. */
  async awaitReceipt(r: JournalRow): Promise<JournalRow | null> {
    const ctx = this.#ctx;
    let receipt = await receiptOf(ctx, r.txHash!);
    let winner = r;
    if (!receipt) {
      // a replaced transaction with the same nonce may be the one that got mined
      for (const old of replacedRows(ctx.ledger, r.intervalStart, r.action, r.chunk)) {
        const rc = old.txHash ? await receiptOf(ctx, old.txHash) : null;
        if (rc) {
          receipt = rc;
          winner = old;
          break;
        }
      }
    }
    if (!receipt) {
      if (!(await transactionOf(ctx, r.txHash!))) return ctx.journal.update(r, { state: 'signed' }); // dropped (node restart, reorg): send the same bytes again
      if (await this.#tx.behindGap(r)) return null;
      if (ctx.now() - r.updatedAt > this.#o.stuckAfterMs) await this.#tx.replace(r);
      return null;
    }
    if (winner !== r) winner = ctx.journal.minedAsReplaced(r, winner);
    if (receipt.status !== 'success') {
      const reverted = ctx.journal.update(winner, {
        state: 'reverted',
        blockNumber: Number(receipt.blockNumber),
        error: `reverted on chain in block ${receipt.blockNumber}`,
      });
      ctx.journal.replan(reverted, null);
      return null;
    }
    const mined = ctx.journal.update(winner, { state: 'mined', blockNumber: Number(receipt.blockNumber) });
    ctx.journal.emit(r.intervalStart, `${r.action}:${r.chunk}:mined`, winner.txHash);
    if (r.action === 'commit') {
      const iv = getInterval(ctx.ledger, r.intervalStart);
      if (iv?.state === 'settled') advanceInterval(ctx.ledger, r.intervalStart, 'committed', ctx.marketNow());
    }
    return mined;
  }

  /**
   * Checks a mined row against the chain. Still there: `gone: false` (block
   * number refreshed). Reorged out: ended and planned again (its interval
   * back in the queue), or, for an action found done on chain without our
   * transaction, ended as `reverted` with a row in its state and no hash.
   */
  async recheck(r: JournalRow): Promise<{ row: JournalRow; gone: boolean }> {
    const ctx = this.#ctx;
    if (r.txHash) {
      const receipt = await receiptOf(ctx, r.txHash);
      if (receipt) {
        const block = Number(receipt.blockNumber);
        return { row: block === r.blockNumber ? r : ctx.journal.update(r, { blockNumber: block }), gone: false };
      }
      // a receipt went missing: the rest of the journal may have lost blocks too
      this.#reconciled = false;
      if (await doneOnChain(ctx, r)) {
        ctx.journal.supersede(r, r.state, `transaction ${r.txHash} reorged out; the contract has the action done`);
        return { row: { ...r, state: 'reverted' }, gone: true };
      }
      // signed again rather than the same bytes: their nonce may be above a rolled-back chain's
      ctx.journal.reopen(r, 'reorged out: planned again');
      return { row: { ...r, state: 'reverted' }, gone: true };
    }
    if (await doneOnChain(ctx, r)) return { row: r, gone: false };
    ctx.journal.replan(r, 'no longer on chain');
    return { row: { ...r, state: 'reverted' }, gone: true };
  }

  /** A mined row still on chain at `confirmations` depth becomes final, after `persist`. */
  async confirm(r0: JournalRow): Promise<JournalRow | null> {
    const ctx = this.#ctx;
    const { row: r, gone } = await this.recheck(r0);
    if (gone) return null;
    const head = await ctx.client.getBlockNumber();
    if (Number(head) - r.blockNumber! + 1 < this.#o.confirmations) return null;
    await this.#o.persist?.();
    const final = ctx.journal.update(r, { state: 'final' });
    ctx.journal.emit(r.intervalStart, `${r.action}:${r.chunk}:final`, r.txHash);
    return final;
  }

  /**
   * True when the newest transaction the journal calls mined or final has no receipt (or the chain is below its block).
   */
  async #newestGone(): Promise<boolean> {
    const r = newestOnChainRow(this.#ctx.ledger, this.#ctx.chainId);
    if (!r?.txHash) return false;
    const receipt = await receiptOf(this.#ctx, r.txHash);
    return !receipt || receipt.status !== 'success';
  }

  /**
   * Checks the journal against the chain, newest block first, down to the
   * first final row that is still there (a chain loses a suffix of blocks:
   * below that, everything is there). Each row whose transaction is gone:
   * done on chain anyway (another transaction did it) → kept, without the
   * lost hash; else ended and planned again, its interval back in the queue.
   */
  async #reconcile(): Promise<void> {
    const ctx = this.#ctx;
    let reopened = 0;
    for (const id of onChainJournalIds(ctx.ledger, ctx.chainId)) {
      const r = journalRowById(ctx.ledger, id);
      if (!r || (r.state !== 'mined' && r.state !== 'final')) continue;
      const receipt = r.txHash ? await receiptOf(ctx, r.txHash) : null;
      const there = r.txHash ? receipt?.status === 'success' : await doneOnChain(ctx, r);
      if (there) {
        if (r.state === 'final') break;
        continue;
      }
      if (r.txHash && (await doneOnChain(ctx, r))) {
        ctx.journal.supersede(r, r.state, `transaction ${r.txHash} not on chain; the contract has the action done`);
        continue;
      }
      ctx.journal.reopen(
        r,
        `${r.state} but not on chain any more (chain rolled back, restored or replaced): planned again`,
      );
      reopened++;
    }
    this.#reconciled = true;
    if (reopened > 0)
      ctx.journal.emit(0, 'reconciled', null, `${reopened} journal row(s) not on chain any more: planned again`);
  }
}
