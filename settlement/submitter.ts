import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  encodeFunctionData,
  http,
  keccak256,
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
  liveJournalRows,
  nextJournalNonce,
  replacedRows,
  updateJournalRow,
  type JournalRow,
  type JournalState,
} from '../ledger/journal.js';
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
 *   take the nonce from the journal (or the chain, whichever is higher), sign,
 *   and store the raw transaction — before sending it.
 * - signed: send the stored raw transaction (after a crash: the same bytes).
 * - broadcast: wait for the receipt; a transaction stuck longer than
 *   `stuckAfterMs` is replaced by the same nonce with raised fees (the old
 *   row becomes `replaced`; whichever of them is mined wins).
 * - mined: re-read the receipt; if a reorg removed it the row goes back to
 *   `signed` and is sent again; at `confirmations` depth it is final.
 * A revert, or a nonce taken by another transaction, ends the row as
 * `reverted` and plans the action again — the contract's state, not the
 * journal, decides whether it still has to be done.
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
  /**
   * Makes the chain's current blocks durable (the embedded anvil's state
   * file); awaited before any row becomes final, so what the ledger calls
   * final survives a crash of the chain itself.
   */
  persist?: () => Promise<void>;
  events?: EventBus;
  now?: () => number;
  /** Called after every journal write, inside nothing: the crash tests kill the process here. */
  onJournal?: (row: JournalRow) => void;
  /** Called when a transaction was sent but before the journal says so (crash tests: the widest window). */
  onSent?: (row: JournalRow) => void;
}

type Step = 'done' | 'wait';

export class Submitter {
  readonly #o: Required<Omit<SubmitterOptions, 'events' | 'onJournal' | 'onSent' | 'persist'>> & Pick<SubmitterOptions, 'events' | 'onJournal' | 'onSent' | 'persist'>;
  readonly #client: PublicClient;
  readonly #account: PrivateKeyAccount;
  readonly #abi: Abi = loadArtifact('EnergyCredits').abi;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #chainChecked = false;
  #unavailable = false;

  constructor(opts: SubmitterOptions) {
    const settings = chainSettings(opts.chainId);
    this.#o = {
      confirmations: settings.confirmations,
      pollMs: 200,
      stuckAfterMs: 30_000,
      feeBumpPercent: 25,
      gasFraction: 0.5,
      now: Date.now,
      ...opts,
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
    const queue = listQueuedSettlements(this.#o.ledger);
    const head = queue[0];
    if (!head) return 'idle';
    await this.#guard(() => this.#checkChain());
    await this.#guard(() => this.#processInterval(head));
    return 'busy';
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
    this.#o.ledger.tx(() => {
      markSettlementFinal(this.#o.ledger, rec.start, now);
      const iv = getInterval(this.#o.ledger, rec.start);
      if (iv?.state === 'settled') advanceInterval(this.#o.ledger, rec.start, 'committed', now);
      if (getInterval(this.#o.ledger, rec.start)?.state === 'committed') advanceInterval(this.#o.ledger, rec.start, 'final', now);
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
            const { row: back, gone } = await this.#recheck(r);
            if (!gone) return 'done';
            if (back.state !== 'signed') return 'wait';
            r = back;
            break;
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
    const chainNonce = await this.#client.getTransactionCount({ address: this.#account.address, blockTag: 'pending' });
    const nonce = Math.max(nextJournalNonce(this.#o.ledger, this.#o.chainId) ?? 0, chainNonce);
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
      if (iv?.state === 'settled') advanceInterval(this.#o.ledger, r.intervalStart, 'committed', this.#o.now());
    }
    return mined;
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
      this.#emit(r.intervalStart, `${r.action}:${r.chunk}:reorged`, r.txHash);
      return { row: this.#update(r, { state: 'signed', blockNumber: null, error: 'reorged out; sent again' }), gone: true };
    }
    if (await this.#doneOnChain(r)) return { row: r, gone: false };
    this.#replan(r, 'no longer on chain');
    return { row: { ...r, state: 'reverted' }, gone: true };
  }

  async #confirm(r0: JournalRow): Promise<JournalRow | null> {
    const { row: r, gone } = await this.#recheck(r0);
    if (gone) return r.state === 'signed' ? r : null;
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

  #emit(start: number, state: string, txHash: string | null, _detail?: string): void {
    this.#o.events?.emit({ type: 'settlement-state', interval: start ? toIso(start) : '', state, txHash });
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
