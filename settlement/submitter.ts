import { BaseError, createPublicClient, http, type Abi, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Ledger } from '../ledger/ledger.js';
import type { EventBus } from '../core/events.js';
import { MicrogridError, isMicrogridError } from '../core/errors.js';
import { toIso } from '../core/interval.js';
import { getInterval, advanceInterval } from '../ledger/intervals.js';
import { listQueuedSettlements, markSettlementFinal, type SettlementCreditsRecord } from '../ledger/statements.js';
import { liveJournalRows, type JournalRow } from '../ledger/journal.js';
import { loadArtifact } from '../contracts/artifact.js';
import { chainSettings } from './chain/chains.js';
import { commitmentHash } from './chain/commitment.js';
import { chunkSizeFor, chunkToJson, commitmentToJson, planInterval } from './plan.js';
import { backoff } from './backoff.js';
import { shortCause, toChainError } from './chain-errors.js';
import { doneOnChain } from './chain-reads.js';
import { JournalWrites } from './journal-writes.js';
import { Receipts } from './receipts.js';
import { StallWatch } from './stall.js';
import type { SubmitterContext } from './submitter-context.js';
import { Transactions } from './transactions.js';

/**
 * Sends settled intervals to the EnergyCredits contract, exactly once, through
 * a write-ahead journal in the ledger (ledger/journal.ts).
 *
 * For each interval, oldest first (an interval goes only when the one before
 * it is final, so the chain sees them in order): plan the commitment and the
 * mint chunks (one journal row each, in one transaction), then drive each row
 * planned → signed → broadcast → mined → final:
 * - planned: ask the contract whether the action is already done (then it is
 *   mined); else simulate (a revert surfaces here, before any fee is spent),
 *   take the nonce from the chain (its pending count), sign,
 *   and store the raw transaction — before sending it.
 * - signed: send the stored raw transaction (after a crash: the same bytes).
 * - broadcast: wait for the receipt; a transaction stuck longer than
 *   `stuckAfterMs` is replaced by the same nonce with raised fees (the old
 *   row becomes `replaced`; whichever of them is mined wins).
 * - mined: re-read the receipt; if a reorg removed it the contract decides
 *   (done: kept; else planned again); at `confirmations` depth, after
 *   `persist`, it is final.
 * A revert, or a nonce taken by another transaction, ends the row as
 * `reverted` and plans the action again — the contract's state, not the
 * journal, decides whether it still has to be done.
 *
 * The chain it finds may not be the chain it left (a rolled-back or restored
 * node, an embedded anvil that lost its last blocks, a fork): on the first
 * pass, and whenever the newest transaction the journal calls mined or final
 * has no receipt any more, it reconciles — newest first, every mined/final
 * row whose transaction is gone is ended (`reverted`, with the reason) and
 * planned again unless the contract shows the action done; a final interval
 * among them goes back to the queue (ledger/reopen.ts). Nonces come from the
 * chain (the journal's may be ahead of a rolled-back chain); a transaction
 * the node holds behind a nonce gap gets the gap filled with empty transfers
 * to ourselves, one it does not hold is planned again at the chain's nonce.
 * An interval at the head of the queue for longer than `stalledAfterMs`
 * raises `stalled` once (alarm SETTLEMENT_STALLED; kv `settlement.stalled`
 * for `mgx status`), and `resumed` when it goes through.
 *
 * This file is the loop; its parts: the journal's states and moves
 * (journal-machine.ts) and its writes (journal-writes.ts), signing, nonces
 * and fee bumps (transactions.ts), receipts and reorgs (receipts.ts), what a
 * chain error means (chain-errors.ts), the stall watch (stall.ts), and the
 * one backoff every loop here waits with (backoff.ts).
 */

export interface SubmitterOptions {
  ledger: Ledger;
  rpcUrl: string;
  /** The chain id the RPC must serve. */
  chainId: number;
  privateKey: Hex;
  contract: Address;
  /** Depth at which a transaction is final; default from the chain's settings. */
  confirmations?: number;
  /** How often to poll for receipts and new work (ms). */
  pollMs?: number;
  /** Replace a transaction not mined after this long (ms). */
  stuckAfterMs?: number;
  /** Raise fees by this much on replacement (percent, at least 10: nodes refuse less). */
  feeBumpPercent?: number;
  /** Share of the block gas limit one chunk may use. */
  gasFraction?: number;
  /** An interval waiting on the chain longer than this (ms, wall time) is reported stalled. */
  stalledAfterMs?: number;
  /**
   * Makes the chain's current blocks durable (the embedded anvil's state
   * file); awaited before any row becomes final, so what the ledger calls
   * final survives a crash of the chain itself.
   */
  persist?: () => Promise<void>;
  events?: EventBus;
  /** Wall time: journal rows and the stuck-transaction timer (the chain runs on the wall clock). */
  now?: () => number;
  /**
   * The market clock, for the interval transitions it records (committed, final), like every other step's (default
   * `now`).
   */
  marketNow?: () => number;
  /** Called after every journal write, inside nothing: the crash tests kill the process here. */
  onJournal?: (row: JournalRow) => void;
  /** Called when a transaction was sent but before the journal says so (crash tests: the widest window). */
  onSent?: (row: JournalRow) => void;
}

type Step = 'done' | 'wait';

export class Submitter {
  readonly #o: Required<
    Pick<SubmitterOptions, 'ledger' | 'rpcUrl' | 'chainId' | 'contract' | 'pollMs' | 'gasFraction'>
  >;
  readonly #ctx: SubmitterContext;
  readonly #tx: Transactions;
  readonly #receipts: Receipts;
  readonly #stall: StallWatch;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #chainChecked = false;
  #unavailable = false;
  /** The interval the current pass works on (the subject of a SETTLEMENT_FAILED alarm). */
  #head: number | undefined;

  constructor(opts: SubmitterOptions) {
    const settings = chainSettings(opts.chainId);
    const feeBumpPercent = opts.feeBumpPercent ?? 25;
    if (feeBumpPercent < 10)
      throw new MicrogridError('CHAIN_CONFIG', 'fee bump too small', {
        field: 'feeBumpPercent',
        value: feeBumpPercent,
        expected: 'at least 10 (percent)',
      });
    this.#o = {
      ledger: opts.ledger,
      rpcUrl: opts.rpcUrl,
      chainId: opts.chainId,
      contract: opts.contract,
      pollMs: opts.pollMs ?? 200,
      gasFraction: opts.gasFraction ?? 0.5,
    };
    const now = opts.now ?? Date.now;
    const abi: Abi = loadArtifact('EnergyCredits').abi;
    const journal = new JournalWrites({
      ledger: opts.ledger,
      chainId: opts.chainId,
      now,
      events: opts.events,
      onJournal: opts.onJournal,
    });
    this.#ctx = {
      ledger: opts.ledger,
      client: createPublicClient({
        chain: settings.chain,
        cacheTime: 0,
        pollingInterval: 100,
        transport: http(opts.rpcUrl, { retryCount: 0, timeout: 10_000 }),
      }) as PublicClient,
      account: privateKeyToAccount(opts.privateKey),
      abi,
      chainId: opts.chainId,
      contract: opts.contract,
      rpcUrl: opts.rpcUrl,
      now,
      marketNow: opts.marketNow ?? now,
      journal,
    };
    this.#tx = new Transactions(this.#ctx, { feeBumpPercent, onSent: opts.onSent });
    this.#receipts = new Receipts(this.#ctx, this.#tx, {
      confirmations: opts.confirmations ?? settings.confirmations,
      stuckAfterMs: opts.stuckAfterMs ?? 30_000,
      persist: opts.persist,
    });
    this.#stall = new StallWatch({ ledger: opts.ledger, journal, now, stalledAfterMs: opts.stalledAfterMs ?? 600_000 });
  }

  get address(): Address {
    return this.#ctx.account.address;
  }

  /** Wakes the loop for a newly settled interval (the queue itself is the ledger: settlement_credits). */
  enqueue(_start?: number): void {
    this.#wake?.();
  }

  /** Runs until stop(): settles queued intervals in order, waits when idle or when the chain is down. */
  run(): Promise<void> {
    if (this.#loop) return this.#loop;
    this.#running = true;
    this.#loop = (async () => {
      const wait = backoff(this.#o.pollMs);
      let lastError: string | undefined;
      while (this.#running) {
        try {
          const idle = await this.step();
          wait.reset();
          lastError = undefined;
          if (idle === 'idle') await this.#sleep(Math.max(this.#o.pollMs, 1000));
          else await this.#sleep(this.#o.pollMs);
        } catch (err) {
          const cause = isMicrogridError(err) ? err.message : shortCause(err);
          // once per cause, not per retry: a Conflict waits for an operator, and would raise SETTLEMENT_FAILED every 5
          // s
          if (!isMicrogridError(err, 'CHAIN_UNAVAILABLE') && cause !== lastError)
            this.#ctx.journal.emit(this.#head ?? 0, 'error', null, cause);
          lastError = cause;
          await this.#sleep(wait.next());
        }
      }
    })();
    return this.#loop;
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    this.#loop = undefined;
  }

  /**
   * Works until no interval is queued (tests, the benchmark, one-shot tools).
   * Chain outages are waited out with backoff, until `timeoutMs`.
   */
  async drain(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const wait = backoff(this.#o.pollMs);
    for (;;) {
      let ms = this.#o.pollMs;
      try {
        if ((await this.step()) === 'idle') return;
        wait.reset();
      } catch (err) {
        if (!isMicrogridError(err, 'CHAIN_UNAVAILABLE')) throw err;
        ms = wait.next();
      }
      if (Date.now() > deadline)
        throw new MicrogridError('CHAIN_UNAVAILABLE', `settlement did not finish within ${timeoutMs} ms`, {
          field: 'chain.rpcUrl',
          value: this.#o.rpcUrl,
        });
      await this.#sleep(ms);
    }
  }

  /** One pass over the head of the queue. 'idle' when nothing is queued. */
  async step(): Promise<'idle' | 'busy'> {
    this.#head = undefined;
    const idle = listQueuedSettlements(this.#o.ledger).length === 0;
    this.#stall.check();
    try {
      await this.#guard(async () => {
        await this.#checkChain();
        await this.#receipts.reconcileIfNeeded();
      });
    } catch (err) {
      // nothing queued and the journal already checked: a chain outage is nobody's wait
      if (idle && this.#receipts.reconciled && isMicrogridError(err, 'CHAIN_UNAVAILABLE')) return 'idle';
      throw err;
    }
    const head = listQueuedSettlements(this.#o.ledger)[0];
    if (!head) return 'idle';
    this.#head = head.start;
    await this.#guard(() => this.#processInterval(head));
    this.#stall.check();
    return 'busy';
  }

  async #processInterval(rec: SettlementCreditsRecord): Promise<void> {
    const ledger = this.#o.ledger;
    let rows = liveJournalRows(ledger, rec.start);
    if (rows.length === 0) rows = await this.#plan(rec);
    // first every action up to mined, in order (nonces follow the plan), then each to its confirmation depth
    for (const row of rows) {
      if ((await this.#drive(row, false)) === 'wait') return;
    }
    for (const row of liveJournalRows(ledger, rec.start)) {
      if ((await this.#drive(row, true)) === 'wait') return;
    }
    const live = liveJournalRows(ledger, rec.start);
    if (live.length === 0 || live.some((r) => r.state !== 'final')) return;
    const now = this.#ctx.now();
    const market = this.#ctx.marketNow();
    ledger.tx(() => {
      markSettlementFinal(ledger, rec.start, now);
      const iv = getInterval(ledger, rec.start);
      if (iv?.state === 'settled') advanceInterval(ledger, rec.start, 'committed', market);
      if (getInterval(ledger, rec.start)?.state === 'committed') advanceInterval(ledger, rec.start, 'final', market);
    });
    this.#ctx.journal.emit(rec.start, 'final', live[0]?.txHash ?? null);
  }

  async #plan(rec: SettlementCreditsRecord): Promise<JournalRow[]> {
    const { client, contract, abi } = this.#ctx;
    const block = await client.getBlock({ blockTag: 'latest' });
    const plan = planInterval(rec, chunkSizeFor(block.gasLimit, this.#o.gasFraction));
    const onChain = (await client.readContract({
      address: contract,
      abi,
      functionName: 'commitmentHash',
      args: [plan.commitment.interval],
    })) as Hex;
    if (!/^0x0+$/.test(onChain) && onChain.toLowerCase() !== commitmentHash(plan.commitment).toLowerCase()) {
      // a commitment we did not plan (another settler, or different figures): never mint against it
      throw new MicrogridError(
        'CHAIN_REJECTED',
        `interval ${toIso(rec.start)} is committed on chain with other figures`,
        {
          field: 'commitmentHash',
          value: onChain,
          expected: commitmentHash(plan.commitment),
        },
      );
    }
    return this.#ctx.journal.plan(rec.start, [
      { action: 'commit', chunk: 0, payload: commitmentToJson(plan.commitment) },
      ...plan.chunks.map((ch) => ({
        action: 'mint' as const,
        chunk: ch.index,
        payload: chunkToJson(plan.commitment, ch),
      })),
    ]);
  }

  /** Moves one row as far as it can go now. 'done' when mined (or final, with untilFinal). */
  async #drive(row: JournalRow, untilFinal: boolean): Promise<Step> {
    let r: JournalRow = row;
    for (;;) {
      switch (r.state) {
        case 'final':
          return 'done';
        case 'planned': {
          if (await doneOnChain(this.#ctx, r)) {
            r = this.#ctx.journal.update(r, {
              state: 'mined',
              blockNumber: Number(await this.#ctx.client.getBlockNumber()),
              error: 'found done on chain',
            });
            break;
          }
          const next = await this.#tx.sign(r);
          if (!next) return 'wait';
          r = next;
          break;
        }
        case 'signed': {
          const sent = await this.#tx.send(r);
          if (!sent) return 'wait';
          r = sent;
          break;
        }
        case 'broadcast': {
          const next = await this.#receipts.awaitReceipt(r);
          if (!next) return 'wait';
          r = next;
          break;
        }
        case 'mined': {
          if (!untilFinal) {
            // still on chain? (a reorg may have taken it since; later rows depend on it)
            const { gone } = await this.#receipts.recheck(r);
            return gone ? 'wait' : 'done';
          }
          const next = await this.#receipts.confirm(r);
          if (!next) return 'wait';
          r = next;
          break;
        }
        case 'replaced':
        case 'reverted':
          return 'wait';
      }
    }
  }

  async #checkChain(): Promise<void> {
    if (this.#chainChecked) return;
    const id = await this.#ctx.client.getChainId();
    if (id !== this.#o.chainId)
      throw new MicrogridError('CHAIN_CONFIG', 'the RPC serves another chain', {
        field: 'chain.chainId',
        value: this.#o.chainId,
        expected: `${id}, the id of the chain at ${this.#o.rpcUrl}`,
      });
    this.#chainChecked = true;
  }

  /**
   * Classifies chain failures (CHAIN_UNAVAILABLE, CHAIN_REJECTED), announcing an outage, with its cause, and the
   * recovery once.
   */
  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const v = await fn();
      if (this.#unavailable) {
        this.#unavailable = false;
        this.#ctx.journal.emit(0, 'chain-available', null);
      }
      return v;
    } catch (err) {
      const e = err instanceof BaseError ? toChainError(err, this.#o.rpcUrl, this.#ctx.abi) : err;
      if (isMicrogridError(e, 'CHAIN_UNAVAILABLE') && !this.#unavailable) {
        this.#unavailable = true;
        // the cause alone (what the socket or the node said): the alarm's own words say the rest
        this.#ctx.journal.emit(
          0,
          'chain-unavailable',
          null,
          e.cause instanceof BaseError ? shortCause(e.cause) : e.message,
        );
      }
      throw e;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#wake = done;
    });
  }
}
