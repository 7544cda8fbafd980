import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  encodeFunctionData,
  http,
  isAddressEqual,
  keccak256,
  parseTransaction,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { Ledger } from '../ledger/ledger.js';
import type { EventBus } from '../core/events.js';
import { MicrogridError, isMicrogridError } from '../core/errors.js';
import { toIso } from '../core/interval.js';
import { getInterval, advanceInterval } from '../ledger/intervals.js';
import { listQueuedSettlements, markSettlementFinal, type SettlementCreditsRecord } from '../ledger/statements.js';
import {
  insertJournalRow,
  journalRowById,
  journalStartedAt,
  liveJournalRows,
  newestOnChainRow,
  nextJournalNonce,
  onChainJournalIds,
  replacedRows,
  updateJournalRow,
  type JournalRow,
  type JournalState,
} from '../ledger/journal.js';
import { reopenSettlement } from '../ledger/reopen.js';
import { loadArtifact } from '../contracts/artifact.js';
import { chainSettings } from './chain/chains.js';
import { commitmentHash, type Commitment } from './chain/commitment.js';
import { chunkFromJson, chunkSizeFor, chunkToJson, commitmentFromJson, commitmentToJson, planInterval } from './plan.js';

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
  /** The market clock, for the interval transitions it records (committed, final), like every other step's (default `now`). */
  marketNow?: () => number;
  /** Called after every journal write, inside nothing: the crash tests kill the process here. */
  onJournal?: (row: JournalRow) => void;
  /** Called when a transaction was sent but before the journal says so (crash tests: the widest window). */
  onSent?: (row: JournalRow) => void;
}

type Step = 'done' | 'wait';

export class Submitter {
  readonly #o: Required<Omit<SubmitterOptions, 'events' | 'onJournal' | 'onSent' | 'marketNow' | 'persist'>> &
    Pick<SubmitterOptions, 'events' | 'onJournal' | 'onSent' | 'persist'> & { marketNow: () => number };
  readonly #client: PublicClient;
  readonly #account: PrivateKeyAccount;
  readonly #abi: Abi = loadArtifact('EnergyCredits').abi;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #chainChecked = false;
  #unavailable = false;
  /** False until the journal was checked against this chain (each start, and after a receipt went missing). */
  #reconciled = false;
  #waiting: { start: number; since: number } | undefined;
  #stalled: number | null | undefined;

  constructor(opts: SubmitterOptions) {
    const settings = chainSettings(opts.chainId);
    this.#o = {
      confirmations: settings.confirmations,
      pollMs: 200,
      stuckAfterMs: 30_000,
      feeBumpPercent: 25,
      gasFraction: 0.5,
      stalledAfterMs: 600_000,
      now: Date.now,
      ...opts,
      marketNow: opts.marketNow ?? opts.now ?? Date.now,
    };
    if (this.#o.feeBumpPercent < 10) throw new MicrogridError('CHAIN_CONFIG', 'fee bump too small', { field: 'feeBumpPercent', value: this.#o.feeBumpPercent, expected: 'at least 10 (percent)' });
    this.#client = createPublicClient({ chain: settings.chain, cacheTime: 0, pollingInterval: 100, transport: http(opts.rpcUrl, { retryCount: 0, timeout: 10_000 }) }) as PublicClient;
    this.#account = privateKeyToAccount(opts.privateKey);
  }

  get address(): Address {
    return this.#account.address;
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
      let backoff = this.#o.pollMs;
      while (this.#running) {
        try {
          const idle = await this.step();
          backoff = this.#o.pollMs;
          if (idle === 'idle') await this.#sleep(Math.max(this.#o.pollMs, 1000));
          else await this.#sleep(this.#o.pollMs);
        } catch (err) {
          if (!isMicrogridError(err, 'CHAIN_UNAVAILABLE')) this.#emit(0, 'error', null, (err as Error).message);
          await this.#sleep(backoff);
          backoff = Math.min(backoff * 2, 5000);
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
    let backoff = this.#o.pollMs;
    for (;;) {
      try {
        if ((await this.step()) === 'idle') return;
        backoff = this.#o.pollMs;
      } catch (err) {
        if (!isMicrogridError(err, 'CHAIN_UNAVAILABLE')) throw err;
        backoff = Math.min(backoff * 2, 2000);
      }
      if (Date.now() > deadline) throw new MicrogridError('CHAIN_UNAVAILABLE', `settlement did not finish within ${timeoutMs} ms`, { field: 'chain.rpcUrl', value: this.#o.rpcUrl });
      await this.#sleep(backoff);
    }
  }

  /** One pass over the head of the queue. 'idle' when nothing is queued. */
  async step(): Promise<'idle' | 'busy'> {
    const idle = listQueuedSettlements(this.#o.ledger).length === 0;
    this.#watchStall();
    try {
      await this.#guard(async () => {
        await this.#checkChain();
        if (!this.#reconciled || (await this.#newestGone())) await this.#reconcile();
      });
    } catch (err) {
      // nothing queued and the journal already checked: a chain outage is nobody's wait
      if (idle && this.#reconciled && isMicrogridError(err, 'CHAIN_UNAVAILABLE')) return 'idle';
      throw err;
    }
    const head = listQueuedSettlements(this.#o.ledger)[0];
    if (!head) return 'idle';
    await this.#guard(() => this.#processInterval(head));
    this.#watchStall();
    return 'busy';
  }

  /** True when the newest transaction the journal calls mined or final has no receipt (or the chain is below its block). */
  async #newestGone(): Promise<boolean> {
    const r = newestOnChainRow(this.#o.ledger, this.#o.chainId);
    if (!r?.txHash) return false;
    const receipt = await this.#receipt(r.txHash);
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
    let reopened = 0;
    for (const id of onChainJournalIds(this.#o.ledger, this.#o.chainId)) {
      const r = journalRowById(this.#o.ledger, id);
      if (!r || (r.state !== 'mined' && r.state !== 'final')) continue;
      const receipt = r.txHash ? await this.#receipt(r.txHash) : null;
      const there = r.txHash ? receipt?.status === 'success' : await this.#doneOnChain(r);
      if (there) {
        if (r.state === 'final') break;
        continue;
      }
      if (r.txHash && (await this.#doneOnChain(r))) {
        this.#supersede(r, r.state, `transaction ${r.txHash} not on chain; the contract has the action done`);
        continue;
      }
      this.#reopen(r, `${r.state} but not on chain any more (chain rolled back, restored or replaced): planned again`);
      reopened++;
    }
    this.#reconciled = true;
    if (reopened > 0) this.#emit(0, 'reconciled', null);
  }

  /** Ends a row the chain lost and plans its action again; a final interval goes back to the queue. */
  #reopen(r: JournalRow, reason: string): void {
    const now = this.#o.now();
    this.#o.ledger.tx(() => {
      this.#replan(r, reason);
      reopenSettlement(this.#o.ledger, r.intervalStart, now);
    });
    this.#emit(r.intervalStart, `${r.action}:${r.chunk}:reorged`, r.txHash);
  }

  /** Ends a row and records the same action in `state` without a transaction of ours (found done on chain). */
  #supersede(r: JournalRow, state: JournalState, reason: string): void {
    const now = this.#o.now();
    this.#o.ledger.tx(() => {
      updateJournalRow(this.#o.ledger, r.id, { state: 'reverted', error: reason }, now);
      const id = insertJournalRow(this.#o.ledger, { intervalStart: r.intervalStart, action: r.action, chunk: r.chunk, state, chainId: this.#o.chainId, payload: r.payload! }, now);
      updateJournalRow(this.#o.ledger, id, { blockNumber: r.blockNumber, error: 'found done on chain' }, now);
    });
  }

  /** Raises `stalled` once when the head of the queue has waited longer than stalledAfterMs; `resumed` when it moves on. */
  #watchStall(): void {
    const ledger = this.#o.ledger;
    if (this.#stalled === undefined) {
      // a stall the last run reported stays reported until its interval goes through
      const kept = ledger.getKv(STALLED_KEY);
      this.#stalled = kept ? (JSON.parse(kept) as StalledRecord).start : null;
    }
    const head = listQueuedSettlements(ledger)[0];
    const now = this.#o.now();
    if (this.#stalled !== null && this.#stalled !== head?.start) {
      const start = this.#stalled;
      this.#stalled = null;
      ledger.setKv(STALLED_KEY, '');
      this.#emit(start, 'resumed', null);
    }
    if (!head) {
      this.#waiting = undefined;
      return;
    }
    if (this.#waiting?.start !== head.start) this.#waiting = { start: head.start, since: Math.min(now, journalStartedAt(ledger, head.start) ?? now) };
    if (this.#stalled === head.start || now - this.#waiting.since <= this.#o.stalledAfterMs) return;
    this.#stalled = head.start;
    const live = liveJournalRows(ledger, head.start);
    const rec: StalledRecord = {
      start: head.start,
      interval: toIso(head.start),
      since: this.#waiting.since,
      stalledAfterSeconds: this.#o.stalledAfterMs / 1000,
      waiting: live.filter((r) => r.state !== 'final').map((r) => `${r.action}:${r.chunk} ${r.state}${r.nonce !== null ? ` nonce ${r.nonce}` : ''}${r.error ? ` (${r.error})` : ''}`).join('; ') || 'not planned yet',
    };
    ledger.setKv(STALLED_KEY, JSON.stringify(rec));
    this.#emit(head.start, 'stalled', null);
  }

  async #processInterval(rec: SettlementCreditsRecord): Promise<void> {
    let rows = liveJournalRows(this.#o.ledger, rec.start);
    if (rows.length === 0) rows = await this.#plan(rec);
    // first every action up to mined, in order (nonces follow the plan), then each to its confirmation depth
    for (const row of rows) {
      if ((await this.#drive(row, false)) === 'wait') return;
    }
    for (const row of liveJournalRows(this.#o.ledger, rec.start)) {
      if ((await this.#drive(row, true)) === 'wait') return;
    }
    const live = liveJournalRows(this.#o.ledger, rec.start);
    if (live.length === 0 || live.some((r) => r.state !== 'final')) return;
    const now = this.#o.now();
    const market = this.#o.marketNow();
    this.#o.ledger.tx(() => {
      markSettlementFinal(this.#o.ledger, rec.start, now);
      const iv = getInterval(this.#o.ledger, rec.start);
      if (iv?.state === 'settled') advanceInterval(this.#o.ledger, rec.start, 'committed', market);
      if (getInterval(this.#o.ledger, rec.start)?.state === 'committed') advanceInterval(this.#o.ledger, rec.start, 'final', market);
    });
    this.#emit(rec.start, 'final', live[0]?.txHash ?? null);
  }

  async #plan(rec: SettlementCreditsRecord): Promise<JournalRow[]> {
    const block = await this.#client.getBlock({ blockTag: 'latest' });
    const plan = planInterval(rec, chunkSizeFor(block.gasLimit, this.#o.gasFraction));
    const onChain = (await this.#client.readContract({ address: this.#o.contract, abi: this.#abi, functionName: 'commitmentHash', args: [plan.commitment.interval] })) as Hex;
    if (!/^0x0+$/.test(onChain) && onChain.toLowerCase() !== commitmentHash(plan.commitment).toLowerCase()) {
      // a commitment we did not plan (another settler, or different figures): never mint against it
      throw new MicrogridError('CHAIN_REJECTED', `interval ${toIso(rec.start)} is committed on chain with other figures`, {
        field: 'commitmentHash',
        value: onChain,
        expected: commitmentHash(plan.commitment),
      });
    }
    const now = this.#o.now();
    const chainId = this.#o.chainId;
    this.#o.ledger.tx(() => {
      insertJournalRow(this.#o.ledger, { intervalStart: rec.start, action: 'commit', chunk: 0, state: 'planned', chainId, payload: commitmentToJson(plan.commitment) }, now);
      for (const ch of plan.chunks) insertJournalRow(this.#o.ledger, { intervalStart: rec.start, action: 'mint', chunk: ch.index, state: 'planned', chainId, payload: chunkToJson(plan.commitment, ch) }, now);
    });
    const rows = liveJournalRows(this.#o.ledger, rec.start);
    for (const r of rows) this.#journal(r);
    this.#emit(rec.start, 'planned', null);
    return rows;
  }

  /** Moves one row as far as it can go now. 'done' when mined (or final, with untilFinal). */
  async #drive(row: JournalRow, untilFinal: boolean): Promise<Step> {
    let r: JournalRow = row;
    for (;;) {
      switch (r.state) {
        case 'final':
          return 'done';
        case 'planned': {
          if (await this.#doneOnChain(r)) {
            r = this.#update(r, { state: 'mined', blockNumber: Number(await this.#client.getBlockNumber()), error: 'found done on chain' });
            break;
          }
          const next = await this.#sign(r);
          if (!next) return 'wait';
          r = next;
          break;
        }
        case 'signed': {
          const sent = await this.#send(r);
          if (!sent) return 'wait';
          r = sent;
          break;
        }
        case 'broadcast': {
          const next = await this.#awaitReceipt(r);
          if (!next) return 'wait';
          r = next;
          break;
        }
        case 'mined': {
          if (!untilFinal) {
            // still on chain? (a reorg may have taken it since; later rows depend on it)
            const { gone } = await this.#recheck(r);
            return gone ? 'wait' : 'done';
          }
          const next = await this.#confirm(r);
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

  #call(r: JournalRow): { functionName: 'commit' | 'mintChunk'; args: readonly unknown[]; data: Hex; commitment: Commitment } {
    if (r.action === 'commit') {
      const c = commitmentFromJson(r.payload!);
      const args = [c] as const;
      return { functionName: 'commit', args, data: encodeFunctionData({ abi: this.#abi, functionName: 'commit', args }), commitment: c };
    }
    const p = chunkFromJson(r.payload!);
    const args = [p.commitment, p.chunk, p.proof, p.words] as const;
    return { functionName: 'mintChunk', args, data: encodeFunctionData({ abi: this.#abi, functionName: 'mintChunk', args }), commitment: p.commitment };
  }

  async #doneOnChain(r: JournalRow): Promise<boolean> {
    const { commitment } = this.#call(r);
    if (r.action === 'commit') {
      const h = (await this.#client.readContract({ address: this.#o.contract, abi: this.#abi, functionName: 'commitmentHash', args: [commitment.interval] })) as Hex;
      return h.toLowerCase() === commitmentHash(commitment).toLowerCase();
    }
    return (await this.#client.readContract({ address: this.#o.contract, abi: this.#abi, functionName: 'chunkMinted', args: [commitment.interval, r.chunk] })) as boolean;
  }

  /** Simulates, signs and stores. Returns null when the action must wait (e.g. the commit is not mined yet). */
  async #sign(r: JournalRow): Promise<JournalRow | null> {
    const { data, functionName, args } = this.#call(r);
    let gas: bigint;
    try {
      // the simulation: estimateContractGas runs the call and decodes a revert with the contract's ABI
      gas = await this.#client.estimateContractGas({ address: this.#o.contract, abi: this.#abi, functionName, args, account: this.#account });
    } catch (err) {
      const reason = revertName(err);
      if (reason === 'AlreadyCommitted' || reason === 'ChunkAlreadyMinted') {
        return this.#update(r, { state: 'mined', blockNumber: Number(await this.#client.getBlockNumber()), error: `found done on chain (${reason})` });
      }
      if (reason === 'NotCommitted') return null; // the commit is not mined yet
      if (reason === undefined) throw err;
      this.#update(r, { error: reason });
      throw new MicrogridError('CHAIN_REJECTED', `interval ${toIso(r.intervalStart)}: ${r.action} ${r.chunk} would revert (${reason})`, { field: 'settlement', value: reason, cause: err });
    }
    // The chain's count, not the journal's: after a rollback the journal is ahead, and a nonce above the
    // chain's would wait behind a gap for ever. (Rows are signed one at a time, each after the one before
    // is mined, so no transaction of ours is signed and unsent here.)
    const nonce = await this.#client.getTransactionCount({ address: this.#account.address, blockTag: 'pending' });
    const journalNext = nextJournalNonce(this.#o.ledger, this.#o.chainId);
    if (journalNext !== null && journalNext > nonce) this.#emit(r.intervalStart, 'nonce-from-chain', null);
    const fees = await this.#client.estimateFeesPerGas();
    const raw = await this.#account.signTransaction({
      chainId: this.#o.chainId,
      type: 'eip1559',
      to: this.#o.contract,
      data,
      nonce,
      gas: (gas * 125n) / 100n,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    return this.#update(r, { state: 'signed', nonce, rawTx: raw, txHash: keccak256(raw), error: null });
  }

  async #send(r: JournalRow): Promise<JournalRow | null> {
    const to = parseTransaction(r.rawTx!).to;
    if (!to || !isAddressEqual(to, this.#o.contract)) {
      // signed for a contract this chain no longer has (a fresh chain deployed it elsewhere)
      this.#replan(r, `signed for ${to ?? 'no address'}, the contract is now ${this.#o.contract}`);
      return null;
    }
    if (await this.#behindGap(r)) return null;
    try {
      await this.#client.sendRawTransaction({ serializedTransaction: r.rawTx! });
    } catch (err) {
      const msg = errorText(err);
      if (/already known|already imported|known transaction/i.test(msg)) {
        // the node has it: fine
      } else if (/nonce too low|nonce.*(lower|already)|replacement transaction underpriced/i.test(msg)) {
        if (await this.#receipt(r.txHash!)) return this.#update(r, { state: 'broadcast' });
        // another transaction took this nonce: the contract decides whether the action is still to do
        this.#replan(r, `nonce ${r.nonce} taken: ${msg.slice(0, 200)}`);
        return null;
      } else {
        throw toChainError(err, this.#o.rpcUrl);
      }
    }
    this.#o.onSent?.(r);
    this.#emit(r.intervalStart, `${r.action}:${r.chunk}:broadcast`, r.txHash);
    return this.#update(r, { state: 'broadcast' });
  }

  async #awaitReceipt(r: JournalRow): Promise<JournalRow | null> {
    let receipt = await this.#receipt(r.txHash!);
    let winner = r;
    if (!receipt) {
      // a replaced transaction with the same nonce may be the one that got mined
      for (const old of replacedRows(this.#o.ledger, r.intervalStart, r.action, r.chunk)) {
        const rc = old.txHash ? await this.#receipt(old.txHash) : null;
        if (rc) {
          receipt = rc;
          winner = old;
          break;
        }
      }
    }
    if (!receipt) {
      const known = await this.#client.getTransaction({ hash: r.txHash! }).catch((err: unknown) => {
        if (isTransportError(err)) throw toChainError(err, this.#o.rpcUrl);
        return null;
      });
      if (!known) return this.#update(r, { state: 'signed' }); // dropped (node restart, reorg): send the same bytes again
      if (await this.#behindGap(r)) return null;
      if (this.#o.now() - r.updatedAt > this.#o.stuckAfterMs) await this.#replace(r);
      return null;
    }
    if (winner !== r) {
      this.#o.ledger.tx(() => {
        updateJournalRow(this.#o.ledger, r.id, { state: 'replaced', error: `nonce ${r.nonce} mined as ${winner.txHash}` }, this.#o.now());
        updateJournalRow(this.#o.ledger, winner.id, { state: 'broadcast' }, this.#o.now());
      });
      winner = { ...winner, state: 'broadcast' };
    }
    if (receipt.status !== 'success') {
      this.#update(winner, { state: 'reverted', blockNumber: Number(receipt.blockNumber), error: 'reverted on chain' });
      this.#replan(winner, null);
      return null;
    }
    const mined = this.#update(winner, { state: 'mined', blockNumber: Number(receipt.blockNumber) });
    this.#emit(r.intervalStart, `${r.action}:${r.chunk}:mined`, winner.txHash);
    if (r.action === 'commit') {
      const iv = getInterval(this.#o.ledger, r.intervalStart);
      if (iv?.state === 'settled') advanceInterval(this.#o.ledger, r.intervalStart, 'committed', this.#o.marketNow());
    }
    return mined;
  }

  /**
   * A transaction whose nonce is above the chain's next one waits for ever
   * (the issue's 08:30 commit: nonce 3 on a chain expecting 1). When the node
   * holds it, the gap is filled with empty transfers to ourselves, so it runs
   * as signed; when not, the action is planned again at the chain's nonce.
   * True when the row cannot go on as it is now.
   */
  async #behindGap(r: JournalRow): Promise<boolean> {
    const next = await this.#client.getTransactionCount({ address: this.#account.address, blockTag: 'pending' });
    if (r.nonce === null || r.nonce <= next) return false;
    const held = await this.#client.getTransaction({ hash: r.txHash! }).catch((err: unknown) => {
      if (isTransportError(err)) throw toChainError(err, this.#o.rpcUrl);
      return null;
    });
    if (!held) {
      this.#replan(r, `nonce ${r.nonce} is above the chain's next nonce ${next}: signed again at the chain's`);
      return true;
    }
    const fees = await this.#client.estimateFeesPerGas();
    for (let nonce = next; nonce < r.nonce; nonce++) {
      const raw = await this.#account.signTransaction({ chainId: this.#o.chainId, type: 'eip1559', to: this.#account.address, value: 0n, gas: 21_000n, nonce, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas });
      await this.#client.sendRawTransaction({ serializedTransaction: raw }).catch((err: unknown) => {
        // someone filled this nonce meanwhile: fine
        if (!/nonce too low|already known|replacement transaction underpriced/i.test(errorText(err))) throw toChainError(err, this.#o.rpcUrl);
      });
    }
    this.#emit(r.intervalStart, `${r.action}:${r.chunk}:gap-filled`, r.txHash);
    return false;
  }

  /** Same nonce, same call, fees raised by feeBumpPercent (or to the current estimate if higher). */
  async #replace(r: JournalRow): Promise<void> {
    const { data } = this.#call(r);
    const old = await this.#client.getTransaction({ hash: r.txHash! });
    const fees = await this.#client.estimateFeesPerGas();
    const bump = (v: bigint) => (v * BigInt(100 + this.#o.feeBumpPercent)) / 100n + 1n;
    const maxPriorityFeePerGas = [bump(old.maxPriorityFeePerGas ?? 0n), fees.maxPriorityFeePerGas].reduce((a, b) => (a > b ? a : b));
    const maxFeePerGas = [bump(old.maxFeePerGas ?? old.gasPrice ?? 0n), fees.maxFeePerGas, maxPriorityFeePerGas].reduce((a, b) => (a > b ? a : b));
    const raw = await this.#account.signTransaction({ chainId: this.#o.chainId, type: 'eip1559', to: this.#o.contract, data, nonce: r.nonce!, gas: old.gas, maxFeePerGas, maxPriorityFeePerGas });
    const now = this.#o.now();
    let id = 0;
    this.#o.ledger.tx(() => {
      updateJournalRow(this.#o.ledger, r.id, { state: 'replaced', error: `stuck for ${now - r.updatedAt} ms: replaced with fees ×${1 + this.#o.feeBumpPercent / 100}` }, now);
      id = insertJournalRow(this.#o.ledger, { intervalStart: r.intervalStart, action: r.action, chunk: r.chunk, state: 'signed', chainId: this.#o.chainId, payload: r.payload!, nonce: r.nonce!, rawTx: raw, txHash: keccak256(raw) }, now);
    });
    this.#journal({ ...r, state: 'replaced' });
    this.#journal({ ...r, id, state: 'signed', rawTx: raw, txHash: keccak256(raw) });
    this.#emit(r.intervalStart, `${r.action}:${r.chunk}:replaced`, keccak256(raw));
  }

  /**
   * Checks a mined row against the chain. Still there: `gone: false` (block
   * number refreshed). Reorged out: the row back in `signed` (the same bytes
   * go out again), or, for an action found done on chain without our
   * transaction, ended as `reverted` with a fresh `planned` row.
   */
  async #recheck(r: JournalRow): Promise<{ row: JournalRow; gone: boolean }> {
    if (r.txHash) {
      const receipt = await this.#receipt(r.txHash);
      if (receipt) {
        const block = Number(receipt.blockNumber);
        return { row: block === r.blockNumber ? r : this.#update(r, { blockNumber: block }), gone: false };
      }
      // a receipt went missing: the rest of the journal may have lost blocks too
      this.#reconciled = false;
      if (await this.#doneOnChain(r)) {
        this.#supersede(r, r.state, `transaction ${r.txHash} reorged out; the contract has the action done`);
        return { row: { ...r, state: 'reverted' }, gone: true };
      }
      // signed again rather than the same bytes: their nonce may be above a rolled-back chain's
      this.#reopen(r, 'reorged out: planned again');
      return { row: { ...r, state: 'reverted' }, gone: true };
    }
    if (await this.#doneOnChain(r)) return { row: r, gone: false };
    this.#replan(r, 'no longer on chain');
    return { row: { ...r, state: 'reverted' }, gone: true };
  }

  async #confirm(r0: JournalRow): Promise<JournalRow | null> {
    const { row: r, gone } = await this.#recheck(r0);
    if (gone) return null;
    const head = await this.#client.getBlockNumber();
    if (Number(head) - r.blockNumber! + 1 < this.#o.confirmations) return null;
    await this.#o.persist?.();
    const final = this.#update(r, { state: 'final' });
    this.#emit(r.intervalStart, `${r.action}:${r.chunk}:final`, r.txHash);
    return final;
  }

  /** Ends a row and plans the same action again (the planned path checks the contract first). */
  #replan(r: JournalRow, error: string | null): void {
    const now = this.#o.now();
    let id = 0;
    this.#o.ledger.tx(() => {
      if (r.state !== 'reverted') updateJournalRow(this.#o.ledger, r.id, { state: 'reverted', ...(error ? { error } : {}) }, now);
      id = insertJournalRow(this.#o.ledger, { intervalStart: r.intervalStart, action: r.action, chunk: r.chunk, state: 'planned', chainId: this.#o.chainId, payload: r.payload! }, now);
    });
    this.#journal({ ...r, state: 'reverted' });
    this.#journal({ ...r, id, state: 'planned', nonce: null, txHash: null, rawTx: null });
  }

  async #receipt(hash: Hex): Promise<TransactionReceipt | null> {
    try {
      return await this.#client.getTransactionReceipt({ hash });
    } catch (err) {
      if (isTransportError(err)) throw toChainError(err, this.#o.rpcUrl);
      return null;
    }
  }

  async #checkChain(): Promise<void> {
    if (this.#chainChecked) return;
    const id = await this.#client.getChainId();
    if (id !== this.#o.chainId) throw new MicrogridError('CHAIN_CONFIG', 'the RPC serves another chain', { field: 'chain.chainId', value: this.#o.chainId, expected: `${id}, the id of the chain at ${this.#o.rpcUrl}` });
    this.#chainChecked = true;
  }

  /** Classifies transport failures as CHAIN_UNAVAILABLE, announcing the outage and the recovery once. */
  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const v = await fn();
      if (this.#unavailable) {
        this.#unavailable = false;
        this.#emit(0, 'chain-available', null);
      }
      return v;
    } catch (err) {
      const e = isMicrogridError(err) ? err : isTransportError(err) ? toChainError(err, this.#o.rpcUrl) : err;
      if (isMicrogridError(e, 'CHAIN_UNAVAILABLE') && !this.#unavailable) {
        this.#unavailable = true;
        this.#emit(0, 'chain-unavailable', null, e.message);
      }
      throw e;
    }
  }

  #update(r: JournalRow, patch: Partial<Pick<JournalRow, 'state' | 'nonce' | 'txHash' | 'rawTx' | 'blockNumber' | 'error'>>): JournalRow {
    const now = this.#o.now();
    updateJournalRow(this.#o.ledger, r.id, patch, now);
    const next = { ...r, ...patch, updatedAt: patch.state && patch.state !== r.state ? now : r.updatedAt };
    if (patch.state && patch.state !== r.state) {
      this.#journal(next);
      if (patch.state !== 'broadcast' && patch.state !== 'mined' && patch.state !== 'final') this.#emit(r.intervalStart, `${r.action}:${r.chunk}:${patch.state}`, next.txHash);
    }
    return next;
  }

  #journal(row: JournalRow): void {
    this.#o.onJournal?.(row);
  }

  #emit(start: number, state: string, txHash: string | null, detail?: string): void {
    this.#o.events?.emit({ type: 'settlement-state', interval: start ? toIso(start) : '', state, txHash, ...(detail ? { detail: detail.slice(0, 500) } : {}) });
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

/** kv key of the stall `mgx status` shows (empty: none). */
export const STALLED_KEY = 'settlement.stalled';

export interface StalledRecord {
  start: number;
  interval: string;
  /** Wall time (ms) since which the interval waits on the chain. */
  since: number;
  stalledAfterSeconds: number;
  /** Its journal rows not yet final, with their state and last error. */
  waiting: string;
}

export const SETTLEMENT_STATES: readonly JournalState[] = ['planned', 'signed', 'broadcast', 'mined', 'final'];

/** The custom error (or reason) a contract call reverted with; undefined when it did not revert (transport failure). */
export function revertName(err: unknown): string | undefined {
  if (!(err instanceof BaseError)) return undefined;
  const r = err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (r instanceof ContractFunctionRevertedError) return r.data?.errorName ?? r.reason ?? 'reverted';
  if (isTransportError(err)) return undefined;
  // estimateGas without an ABI: decode the revert data ourselves
  const data = findRevertData(err);
  if (data) return decodeErrorName(data) ?? 'reverted';
  return /revert/i.test(errorText(err)) ? 'reverted' : undefined;
}

const ERROR_SELECTORS = new Map<string, string>();
function decodeErrorName(data: Hex): string | undefined {
  if (ERROR_SELECTORS.size === 0) {
    for (const item of loadArtifact('EnergyCredits').abi) {
      if (item.type !== 'error') continue;
      const sig = `${item.name}(${item.inputs.map((i) => i.type).join(',')})`;
      ERROR_SELECTORS.set(keccak256(new TextEncoder().encode(sig)).slice(0, 10), item.name);
    }
  }
  return ERROR_SELECTORS.get(data.slice(0, 10).toLowerCase());
}

function findRevertData(err: BaseError): Hex | undefined {
  let found: Hex | undefined;
  err.walk((e) => {
    const d = (e as { data?: unknown }).data;
    if (typeof d === 'string' && /^0x[0-9a-f]{8}/i.test(d)) found = d as Hex;
    return false;
  });
  return found;
}

function errorText(err: unknown): string {
  if (err instanceof BaseError) return `${err.shortMessage} ${err.details ?? ''} ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

export function isTransportError(err: unknown): boolean {
  if (!(err instanceof BaseError)) return /ECONNREFUSED|fetch failed|socket|timeout/i.test(String(err));
  return Boolean(err.walk((e) => (e as { name?: string }).name === 'HttpRequestError' || (e as { name?: string }).name === 'TimeoutError'));
}

function toChainError(err: unknown, rpcUrl: string): MicrogridError {
  if (isMicrogridError(err)) return err;
  if (isTransportError(err)) return new MicrogridError('CHAIN_UNAVAILABLE', `the chain does not answer (${errorText(err).slice(0, 160)})`, { field: 'chain.rpcUrl', value: rpcUrl, expected: 'a reachable EVM JSON-RPC endpoint', cause: err });
  return new MicrogridError('CHAIN_REJECTED', `the chain refused a settlement call: ${errorText(err).slice(0, 300)}`, { field: 'chain.rpcUrl', value: rpcUrl, cause: err });
}
