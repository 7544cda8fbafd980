import {
  createPublicClient,
  decodeFunctionData,
  getAddress,
  http,
  zeroAddress,
  type Abi,
  type AbiEvent,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { loadArtifact } from '../contracts/artifact.js';
import { MicrogridError } from '../core/errors.js';
import type { Commitment } from '../settlement/chain/commitment.js';

/**
 * What the chain says about each interval, read through the RPC only:
 * the `Committed` and `ChunkMinted` events (getLogs over block ranges, all
 * intervals at once), the per-recipient amounts each minting transaction
 * actually minted (its mintChunk calldata, fetched in JSON-RPC batches and
 * cross-checked against its ChunkMinted event), `Retired` events, and the
 * ERC-1155 balances (balanceOfBatch over many (account, id) pairs per call).
 */

export interface OnChainCommitment {
  commitment: Commitment;
  txHash: Hex;
  blockNumber: bigint;
}

export interface OnChainChunk {
  chunk: number;
  recipients: number;
  wh: bigint;
  txHash: Hex;
  /**
   * Per-recipient amounts decoded from the transaction (lower-case address → Wh); null when it could not be decoded.
   */
  words: { account: string; wh: bigint }[] | null;
}

export interface ChainInterval {
  tokenId: number;
  commitments: OnChainCommitment[];
  chunks: OnChainChunk[];
  /** lower-case address → Wh retired (burnt against own consumption). */
  retired: Map<string, bigint>;
}

export const ENERGY_CREDITS_ABI: Abi = loadArtifact('EnergyCredits').abi;
const eventsNamed = (...names: string[]): AbiEvent[] =>
  ENERGY_CREDITS_ABI.filter((x): x is AbiEvent => x.type === 'event' && names.includes(x.name));
const INTERVAL_EVENTS = eventsNamed('Committed', 'ChunkMinted', 'Retired');
const TRANSFER_EVENTS = eventsNamed('TransferSingle', 'TransferBatch');

export interface ChainReaderOptions {
  rpcUrl: string;
  contract: string;
  /** Blocks per eth_getLogs call (public RPCs cap it; default 10 000). */
  blockRange?: bigint;
  fromBlock?: bigint;
}

export class ChainReader {
  readonly client: PublicClient;
  readonly contract: Address;
  readonly #o: ChainReaderOptions;

  constructor(o: ChainReaderOptions) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(o.contract))
      throw new MicrogridError('AUDIT_INPUT', 'contract is not an address', {
        field: '--contract',
        value: o.contract,
        expected: 'the 0x-prefixed 20-byte address of the EnergyCredits contract',
      });
    try {
      new URL(o.rpcUrl);
    } catch {
      throw new MicrogridError('AUDIT_INPUT', 'RPC URL does not parse', {
        field: '--rpc',
        value: o.rpcUrl,
        expected: 'an http(s) URL of an EVM JSON-RPC endpoint',
      });
    }
    this.#o = o;
    this.contract = getAddress(o.contract);
    this.client = createPublicClient({
      transport: http(o.rpcUrl, { batch: { batchSize: 200, wait: 0 }, retryCount: 1, timeout: 30_000 }),
      cacheTime: 0,
    }) as PublicClient;
  }

  async #call<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (cause) {
      if (cause instanceof MicrogridError) throw cause;
      throw new MicrogridError(
        'CHAIN_UNAVAILABLE',
        `the chain RPC failed: ${what} (${(cause as Error).message.split('\n')[0]})`,
        {
          field: '--rpc',
          value: this.#o.rpcUrl,
          expected: 'a reachable EVM JSON-RPC endpoint serving the EnergyCredits contract',
          cause,
        },
      );
    }
  }

  /** The first call: an RPC that does not answer here is bad input (exit 2); later failures are CHAIN_UNAVAILABLE. */
  async chainId(): Promise<number> {
    try {
      return await this.client.getChainId();
    } catch (cause) {
      throw new MicrogridError(
        'AUDIT_INPUT',
        `the chain RPC does not answer (${(cause as Error).message.split('\n')[0]})`,
        { field: '--rpc', value: this.#o.rpcUrl, expected: 'a reachable EVM JSON-RPC endpoint', cause },
      );
    }
  }

  async assertContract(): Promise<void> {
    const code = await this.#call('eth_getCode', () => this.client.getCode({ address: this.contract }));
    if (!code || code === '0x')
      throw new MicrogridError('AUDIT_INPUT', 'no contract at this address on the chain', {
        field: '--contract',
        value: this.contract,
        expected: 'the address of a deployed EnergyCredits contract',
      });
  }

  /** Every interval's chain view with token id in [fromId, toId) (unix seconds). */
  async readIntervals(fromId: number, toId: number): Promise<Map<number, ChainInterval>> {
    const latest = await this.#call('eth_blockNumber', () => this.client.getBlockNumber());
    const step = this.#o.blockRange ?? 10_000n;
    const logs = [];
    for (let b = this.#o.fromBlock ?? 0n; b <= latest; b += step) {
      const to = b + step - 1n < latest ? b + step - 1n : latest;
      logs.push(
        ...(await this.#call('eth_getLogs', () =>
          this.client.getLogs({ address: this.contract, events: INTERVAL_EVENTS, fromBlock: b, toBlock: to }),
        )),
      );
    }
    const out = new Map<number, ChainInterval>();
    const get = (id: bigint): ChainInterval | undefined => {
      const n = Number(id);
      if (n < fromId || n >= toId) return undefined;
      let v = out.get(n);
      if (!v) out.set(n, (v = { tokenId: n, commitments: [], chunks: [], retired: new Map() }));
      return v;
    };
    for (const ev of logs) {
      const a = ev.args as Record<string, unknown>;
      if (ev.eventName === 'Committed') {
        const v = get(a.interval as bigint);
        v?.commitments.push({
          commitment: {
            interval: a.interval as bigint,
            tradesRoot: a.tradesRoot as Hex,
            readingsRoot: a.readingsRoot as Hex,
            creditsRoot: a.creditsRoot as Hex,
            ruleSet: a.ruleSet as Hex,
            exportWh: a.exportWh as bigint,
            matchedWh: a.matchedWh as bigint,
            chunks: Number(a.chunks),
          },
          txHash: ev.transactionHash,
          blockNumber: ev.blockNumber,
        });
      } else if (ev.eventName === 'ChunkMinted') {
        get(a.interval as bigint)?.chunks.push({
          chunk: Number(a.chunk),
          recipients: Number(a.recipients),
          wh: a.wh as bigint,
          txHash: ev.transactionHash,
          words: null,
        });
      } else if (ev.eventName === 'Retired') {
        const v = get(a.interval as bigint);
        const holder = (a.holder as string).toLowerCase();
        v?.retired.set(holder, (v.retired.get(holder) ?? 0n) + (a.wh as bigint));
      }
    }
    await this.#decodeChunks([...out.values()].flatMap((v) => v.chunks));
    for (const v of out.values()) v.chunks.sort((x, y) => x.chunk - y.chunk);
    return out;
  }

  /** Fills each chunk's per-recipient amounts from its transaction's mintChunk calldata (batched JSON-RPC). */
  async #decodeChunks(chunks: OnChainChunk[]): Promise<void> {
    const hashes = [...new Set(chunks.map((c) => c.txHash))];
    const inputs = new Map<Hex, Hex>();
    for (let i = 0; i < hashes.length; i += 500) {
      const part = hashes.slice(i, i + 500);
      const txs = await this.#call('eth_getTransactionByHash', () =>
        Promise.all(part.map((hash) => this.client.getTransaction({ hash }))),
      );
      txs.forEach((t, j) => inputs.set(part[j]!, t.input));
    }
    for (const c of chunks) {
      try {
        const d = decodeFunctionData({ abi: ENERGY_CREDITS_ABI, data: inputs.get(c.txHash)! });
        if (d.functionName !== 'mintChunk') continue;
        const [, chunk, , packed] = d.args as readonly [unknown, number, unknown, readonly bigint[]];
        if (Number(chunk) !== c.chunk) continue;
        c.words = packed.map((w) => ({
          account: `0x${(w & ((1n << 160n) - 1n)).toString(16).padStart(40, '0')}`,
          wh: w >> 160n,
        }));
      } catch {
        c.words = null; // minted through another contract: the audit reports it as undecodable
      }
    }
  }

  /** ERC-1155 balances of (account, token id) pairs, many per balanceOfBatch call. Key: `${id}:${account lower}`. */
  async balances(pairs: readonly { account: string; id: number }[]): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    const size = 1000;
    const calls: Promise<void>[] = [];
    for (let i = 0; i < pairs.length; i += size) {
      const part = pairs.slice(i, i + size);
      calls.push(
        this.#call('balanceOfBatch', () =>
          this.client.readContract({
            address: this.contract,
            abi: ENERGY_CREDITS_ABI,
            functionName: 'balanceOfBatch',
            args: [part.map((p) => getAddress(p.account)), part.map((p) => BigInt(p.id))],
          }),
        ).then((r) =>
          (r as bigint[]).forEach((b, j) => out.set(`${part[j]!.id}:${part[j]!.account.toLowerCase()}`, b)),
        ),
      );
      if (calls.length >= 8) await Promise.all(calls.splice(0));
    }
    await Promise.all(calls);
    return out;
  }

  /**
   * Net ERC-1155 transfers (not mints) of token `id` into and out of `account`, from TransferSingle/TransferBatch logs
   * filtered by address topic.
   */
  async transfersOf(account: string, id: number): Promise<bigint> {
    const holder = getAddress(account);
    const queries = TRANSFER_EVENTS.flatMap((event) =>
      [{ from: holder }, { to: holder }].map((args) => ({ event, args })),
    );
    const parts = await Promise.all(
      queries.map((q) =>
        this.#call('eth_getLogs', () =>
          this.client.getLogs({
            address: this.contract,
            event: q.event,
            args: q.args,
            fromBlock: this.#o.fromBlock ?? 0n,
            toBlock: 'latest',
          }),
        ),
      ),
    );
    let net = 0n;
    const me = account.toLowerCase();
    const seen = new Set<string>();
    for (const ev of parts.flat()) {
      const key = `${ev.transactionHash}:${ev.logIndex}`;
      if (seen.has(key)) continue; // a transfer to oneself is found from both sides
      seen.add(key);
      const a = ev.args as {
        from?: string;
        to?: string;
        id?: bigint;
        value?: bigint;
        ids?: bigint[];
        values?: bigint[];
      };
      if (a.from === undefined || a.to === undefined) continue;
      const from = a.from.toLowerCase();
      const to = a.to.toLowerCase();
      if (from === zeroAddress) continue; // a mint, counted from calldata
      const pairs =
        ev.eventName === 'TransferSingle'
          ? [[a.id!, a.value!] as const]
          : a.ids!.map((x, i) => [x, a.values![i]!] as const);
      for (const [tid, value] of pairs) {
        if (Number(tid) !== id) continue;
        if (to === me) net += value;
        if (from === me && to !== zeroAddress) net -= value; // burns are Retired events
      }
    }
    return net;
  }
}
