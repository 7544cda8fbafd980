import { getAddress, type Address } from 'viem';
import { computeCredits, type Credit } from '../settlement/credits.js';
import { participantAccount } from '../settlement/accounts.js';
import { packCredit } from '../settlement/chain/commitment.js';
import { merkleRootOfBytes } from '../settlement/merkle.js';
import { keccakBytes } from './keccak.js';
import type { DeliveredTrade, MeteredEnergy } from '../settlement/delivery.js';
import type { IntervalEvidence } from './evidence.js';
import type { ChainInterval } from './chain.js';
import { checkResult, type AuditFailure, type CheckResult } from './types.js';

/**
 * Credits the delivered trades and the metered exports imply (DESIGN.md: matched Wh to buyers, the rest to producers).
 */
/**
 * (participant, configured account) → credited address: a derived one costs a keccak and a checksum, the same for every
 * interval.
 */
const accounts = new Map<string, Address>();

export function expectedCredits(
  ev: IntervalEvidence,
  delivered: readonly DeliveredTrade[],
  energy: ReadonlyMap<string, MeteredEnergy>,
): { credits: Credit[]; error: string | null } {
  const accountOf = (id: string): Address => {
    const key = `${id}\u0000${ev.accounts[id] ?? ''}`;
    let a = accounts.get(key);
    if (a === undefined) {
      if (accounts.size > 100_000) accounts.clear();
      accounts.set(key, (a = participantAccount({ id, account: ev.accounts[id] ?? null })));
    }
    return a;
  };
  try {
    return { credits: computeCredits(ev.interval, delivered, energy, accountOf), error: null };
  } catch (e) {
    return { credits: [], error: (e as Error).message };
  }
}

/**
 * settlement/chain/commitment.ts buildCreditChunks(...).root: the credits root, each chunk's leaf
 * keccak256(abi.encodePacked(uint64 interval, uint32 chunk, uint256[] words)) packed by hand and hashed with the
 * audit's keccak. buildCreditChunks also builds every chunk's proof, and viem's encodePacked and keccak took ~1.5 % of
 * the audit's CPU for a root that is one hash of ~100 words; a test checks the two roots agree.
 */
export function creditsRootOf(
  tokenId: bigint,
  credits: readonly { account: Address; wh: bigint }[],
  chunkSize: number,
): string {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunk size ${chunkSize}`);
  const leaves: Uint8Array[] = [];
  for (let i = 0, chunk = 0; i < credits.length; i += chunkSize, chunk++) {
    const words = credits.slice(i, i + chunkSize);
    const bytes = Buffer.alloc(12 + 32 * words.length);
    bytes.writeBigUInt64BE(tokenId, 0);
    bytes.writeUInt32BE(chunk, 8);
    words.forEach((c, j) =>
      bytes.write(packCredit(c.account, c.wh).toString(16).padStart(64, '0'), 12 + 32 * j, 'hex'),
    );
    leaves.push(keccakBytes(bytes));
  }
  return merkleRootOfBytes(leaves, keccakBytes);
}

/** Per-recipient Wh minted on chain for the interval (lower-case address), from the minting transactions. */
export function mintedOnChain(chain: ChainInterval | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const c of chain?.chunks ?? [])
    for (const w of c.words ?? []) out.set(w.account, (out.get(w.account) ?? 0n) + w.wh);
  return out;
}

export interface CreditsInputs {
  credits: Credit[];
  creditsError: string | null;
  /** `${tokenId}:${account}` → balance, from balanceOfBatch. */
  balances: ReadonlyMap<string, bigint>;
  /** Net non-mint transfers of the token into the account (only asked when a balance does not match). */
  transfers: (account: string, id: number) => Promise<bigint>;
}

/**
 * Check 4: credits minted on chain per recipient — decoded from the minting
 * transactions, cross-checked against their ChunkMinted events and against
 * balanceOfBatch (+ Retired, ± transfers) — equal the credits the trades and
 * metered exports imply; Σ credits = Σ metered export = committed exportWh;
 * the committed credits root is the root of those credits' chunks.
 */
export async function checkCredits(
  ev: IntervalEvidence,
  chain: ChainInterval | undefined,
  energy: ReadonlyMap<string, MeteredEnergy>,
  inp: CreditsInputs,
): Promise<CheckResult> {
  const failures: AuditFailure[] = [];
  const fail = (record: string, message: string, expected?: string, found?: string) =>
    failures.push({
      interval: ev.interval,
      check: 'credits',
      record,
      message,
      ...(expected !== undefined ? { expected } : {}),
      ...(found !== undefined ? { found } : {}),
    });
  const tokenId = Math.floor(ev.start / 1000);
  const exportWh = [...energy.values()].reduce((s, e) => s + e.exportWh, 0);
  if (inp.creditsError) fail('credits', inp.creditsError);
  const expected = new Map(inp.credits.map((c) => [c.account.toLowerCase(), BigInt(c.wh)]));
  const minted = mintedOnChain(chain);
  const mintedTotal = [...minted.values()].reduce((s, x) => s + x, 0n);
  const commitments = chain?.commitments ?? [];
  const c = commitments[0]?.commitment;
  if (commitments.length === 0 && exportWh > 0)
    fail(
      `interval ${tokenId}`,
      'no commitment on chain for an interval with metered export',
      `Committed(${tokenId})`,
      'none',
    );
  if (commitments.length > 1)
    fail(`interval ${tokenId}`, 'more than one commitment on chain', '1', String(commitments.length));
  for (const ch of chain?.chunks ?? []) {
    if (ch.words === null) {
      fail(
        `chunk ${ch.chunk} tx ${ch.txHash}`,
        'minting transaction could not be decoded as mintChunk',
        'mintChunk calldata',
        'other',
      );
      continue;
    }
    const sum = ch.words.reduce((s, w) => s + w.wh, 0n);
    if (ch.words.length !== ch.recipients || sum !== ch.wh)
      fail(
        `chunk ${ch.chunk} tx ${ch.txHash}`,
        'ChunkMinted event differs from the transaction',
        `${ch.words.length} recipients, ${sum} Wh`,
        `${ch.recipients} recipients, ${ch.wh} Wh`,
      );
  }
  for (const account of new Set([...expected.keys(), ...minted.keys()])) {
    const e = expected.get(account) ?? 0n;
    const m = minted.get(account) ?? 0n;
    if (e !== m)
      fail(
        `recipient ${getAddress(account)}`,
        'credits minted on chain differ from the credits trades and metered exports imply',
        `${e} Wh`,
        `${m} Wh`,
      );
    const balance = inp.balances.get(`${tokenId}:${account}`);
    if (balance === undefined) continue;
    const retired = chain?.retired.get(account) ?? 0n;
    if (balance + retired !== m) {
      const moved = await inp.transfers(account, tokenId);
      if (balance + retired - moved !== m)
        fail(
          `recipient ${getAddress(account)} balance`,
          'balance on chain (+ retired − transferred in) differs from what was minted',
          `${m} Wh`,
          `${balance + retired - moved} Wh`,
        );
    }
  }
  if (mintedTotal !== BigInt(exportWh))
    fail(
      `interval ${tokenId} Σ credits`,
      'Σ credits minted on chain differ from Σ metered export',
      `${exportWh} Wh`,
      `${mintedTotal} Wh`,
    );
  if (c) {
    if (c.exportWh !== BigInt(exportWh))
      fail(
        `interval ${tokenId} exportWh`,
        'committed export differs from the metered export',
        `${exportWh} Wh`,
        `${c.exportWh} Wh`,
      );
    const chunks = chain?.chunks ?? [];
    const size = chunks.length > 1 ? chunks[0]!.recipients : Math.max(1, inp.credits.length);
    const root = creditsRootOf(
      BigInt(tokenId),
      inp.credits.map((x) => ({ account: x.account, wh: BigInt(x.wh) })),
      size,
    );
    if (inp.credits.length > 0 && root.toLowerCase() !== c.creditsRoot.toLowerCase())
      fail(
        `creditsRoot of ${tokenId}`,
        'Merkle root of the implied credit chunks differs from the committed credits root',
        c.creditsRoot,
        root,
      );
    if (chunks.length !== c.chunks)
      fail(
        `interval ${tokenId} chunks`,
        'not every committed chunk is minted',
        String(c.chunks),
        String(chunks.length),
      );
  }
  return checkResult(
    'credits',
    {
      meteredExportWh: exportWh,
      expectedCreditsWh: inp.credits.reduce((s, x) => s + x.wh, 0),
      mintedWh: mintedTotal.toString(),
      committedExportWh: c ? c.exportWh.toString() : 'none',
      recipients: expected.size,
      recipientsOnChain: minted.size,
    },
    failures,
  );
}
