import type { Ledger } from '../ledger/ledger.js';
import { MicrogridError } from '../core/errors.js';
import { toIso } from '../core/interval.js';
import { tradeLeaf } from '../settlement/inputs.js';
import { merkleProof, verifyMerkleProof } from '../settlement/merkle.js';
import { participantAccount } from '../settlement/accounts.js';
import { buildCreditChunks } from '../settlement/chain/commitment.js';
import { ChainReader } from './chain.js';
import { EvidenceLoader, type EvidenceMeterDataRules } from './evidence.js';
import { checkEnergy } from './check-energy.js';
import { checkClearing } from './check-clearing.js';
import { expectedCredits, mintedOnChain } from './check-credits.js';

export interface HouseholdProof {
  participant: string;
  account: string;
  interval: string;
  tokenId: number;
  tradesRoot: string | null;
  creditsRoot: string | null;
  commitTx: string | null;
  trades: {
    kind: string;
    seq: number;
    role: 'buyer' | 'seller';
    counterparty: string;
    deliveredWh: number;
    price: string;
    leaf: string;
    proof: string[];
    verified: boolean;
  }[];
  credit: {
    wh: number;
    chunk: number;
    chunkLeaf: string;
    proof: string[];
    verified: boolean;
    mintedOnChainWh: string;
    balanceWh: string;
    mintTx: string | null;
  } | null;
  verified: boolean;
}

/**
 * `mgx audit proof --participant P --interval T`: Merkle proofs of P's trades and credits against the roots committed
 * on chain.
 */
export async function householdProof(o: {
  ledger: Ledger;
  rpcUrl: string;
  contract: string;
  start: number;
  intervalMs: number;
  participant: string;
  fromBlock?: bigint;
  meterData?: EvidenceMeterDataRules;
}): Promise<HouseholdProof> {
  const reader = new ChainReader({
    rpcUrl: o.rpcUrl,
    contract: o.contract,
    ...(o.fromBlock !== undefined ? { fromBlock: o.fromBlock } : {}),
  });
  await reader.chainId();
  await reader.assertContract();
  const loader = new EvidenceLoader(o.ledger, o.intervalMs, o.meterData);
  if (!(o.participant in loader.accounts()))
    throw new MicrogridError('AUDIT_INPUT', 'unknown participant', {
      field: '--participant',
      value: o.participant,
      expected: 'a participant id in the ledger',
    });
  if (loader.settledStarts(o.start, o.start + 1).length === 0)
    throw new MicrogridError('AUDIT_INPUT', 'the ledger holds no settlement for this interval', {
      field: '--interval',
      value: toIso(o.start),
      expected: 'a settled interval',
    });
  const tokenId = Math.floor(o.start / 1000);
  const view = (await reader.readIntervals(tokenId, tokenId + 1)).get(tokenId);
  const c = view?.commitments[0]?.commitment;
  const ev = loader.load(o.start);
  const energy = checkEnergy(ev);
  const delivered = checkClearing(ev, view, energy.actual, energy.tradable).delivered;
  const leaves = delivered.map(tradeLeaf);
  const trades = delivered.flatMap((t, i) => {
    if (t.buyer !== o.participant && t.seller !== o.participant) return [];
    const proof = merkleProof(leaves, i);
    const role = t.buyer === o.participant ? ('buyer' as const) : ('seller' as const);
    return [
      {
        kind: t.kind,
        seq: t.seq,
        role,
        counterparty: role === 'buyer' ? t.seller : t.buyer,
        deliveredWh: t.deliveredWh,
        price: t.price,
        leaf: leaves[i]!,
        proof,
        verified: !!c && verifyMerkleProof(proof, c.tradesRoot, leaves[i]!),
      },
    ];
  });
  const account = participantAccount({ id: o.participant, account: ev.accounts[o.participant] ?? null });
  const { credits } = expectedCredits(ev, delivered, energy.actual);
  const chunks = view?.chunks ?? [];
  const size = chunks.length > 1 ? chunks[0]!.recipients : Math.max(1, credits.length);
  const built = buildCreditChunks(
    BigInt(tokenId),
    credits.map((x) => ({ account: x.account, wh: BigInt(x.wh) })),
    size,
  );
  const idx = credits.findIndex((x) => x.account.toLowerCase() === account.toLowerCase());
  let credit: HouseholdProof['credit'] = null;
  if (idx >= 0) {
    const ch = built.chunks[Math.floor(idx / size)]!;
    const minted = mintedOnChain(view).get(account.toLowerCase()) ?? 0n;
    const balance =
      (await reader.balances([{ account, id: tokenId }])).get(`${tokenId}:${account.toLowerCase()}`) ?? 0n;
    credit = {
      wh: credits[idx]!.wh,
      chunk: ch.index,
      chunkLeaf: ch.leaf,
      proof: ch.proof,
      verified: !!c && verifyMerkleProof(ch.proof, c.creditsRoot, ch.leaf) && minted === BigInt(credits[idx]!.wh),
      mintedOnChainWh: minted.toString(),
      balanceWh: balance.toString(),
      mintTx: chunks.find((x) => x.chunk === ch.index)?.txHash ?? null,
    };
  }
  return {
    participant: o.participant,
    account,
    interval: ev.interval,
    tokenId,
    tradesRoot: c?.tradesRoot ?? null,
    creditsRoot: c?.creditsRoot ?? null,
    commitTx: view?.commitments[0]?.txHash ?? null,
    trades,
    credit,
    verified: !!c && trades.every((t) => t.verified) && (credit === null || credit.verified),
  };
}
