import { encodeAbiParameters, encodePacked, keccak256, type Address, type Hex } from 'viem';
import { merkleProof, merkleRoot } from '../merkle.js';

/**
 * The on-chain commitment of one interval, as the EnergyCredits contract
 * takes it, and the credit chunks that are minted against it. A chunk is a
 * list of words `wh << 160 | account`; its leaf is
 * keccak256(abi.encodePacked(uint64 interval, uint32 chunk, uint256[] words)),
 * and the commitment's creditsRoot is the Merkle root of the chunk leaves.
 */

export interface Commitment {
  interval: bigint;
  tradesRoot: Hex;
  readingsRoot: Hex;
  creditsRoot: Hex;
  ruleSet: Hex;
  exportWh: bigint;
  matchedWh: bigint;
  chunks: number;
}

export interface CreditChunk {
  index: number;
  words: bigint[];
  leaf: Hex;
  proof: Hex[];
  wh: bigint;
}

export const MAX_UINT96 = (1n << 96n) - 1n;

export function packCredit(account: Address, wh: bigint): bigint {
  if (wh <= 0n || wh > MAX_UINT96) throw new RangeError(`credit of ${wh} Wh out of range`);
  return (wh << 160n) | BigInt(account);
}

export function chunkLeaf(interval: bigint, index: number, words: readonly bigint[]): Hex {
  return keccak256(encodePacked(['uint64', 'uint32', 'uint256[]'], [interval, index, words]));
}

/** Splits credits into chunks of at most `chunkSize` recipients, with leaves and proofs. */
export function buildCreditChunks(
  interval: bigint,
  credits: readonly { account: Address; wh: bigint }[],
  chunkSize: number,
): { chunks: CreditChunk[]; root: Hex } {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunk size ${chunkSize}`);
  const groups: bigint[][] = [];
  for (let i = 0; i < credits.length; i += chunkSize)
    groups.push(credits.slice(i, i + chunkSize).map((c) => packCredit(c.account, c.wh)));
  const leaves = groups.map((words, i) => chunkLeaf(interval, i, words));
  const chunks = groups.map((words, i) => ({
    index: i,
    words,
    leaf: leaves[i]!,
    proof: merkleProof(leaves, i),
    wh: words.reduce((s, w) => s + (w >> 160n), 0n),
  }));
  return { chunks, root: merkleRoot(leaves) };
}

const COMMITMENT_TUPLE = [
  {
    type: 'tuple',
    components: [
      { name: 'interval', type: 'uint64' },
      { name: 'tradesRoot', type: 'bytes32' },
      { name: 'readingsRoot', type: 'bytes32' },
      { name: 'creditsRoot', type: 'bytes32' },
      { name: 'ruleSet', type: 'bytes32' },
      { name: 'exportWh', type: 'uint96' },
      { name: 'matchedWh', type: 'uint96' },
      { name: 'chunks', type: 'uint32' },
    ],
  },
] as const;

/** keccak256(abi.encode(c)): what the contract stores as commitmentHash[interval]. */
export function commitmentHash(c: Commitment): Hex {
  return keccak256(encodeAbiParameters(COMMITMENT_TUPLE, [c]));
}
