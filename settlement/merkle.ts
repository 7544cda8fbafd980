import { concat, keccak256, type Hex } from 'viem';

/**
 * A binary Merkle tree that OpenZeppelin's MerkleProof verifies: each pair is
 * hashed in sorted order (keccak256(min(a,b) ‖ max(a,b))), so a proof needs no
 * left/right flags. An odd node at the end of a level is carried up unchanged.
 * The root of no leaves is bytes32(0).
 */

export const ZERO_ROOT: Hex = `0x${'0'.repeat(64)}`;

function hashPair(a: Hex, b: Hex): Hex {
  return a.toLowerCase() < b.toLowerCase() ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/** All levels, leaves first. */
function levels(leaves: readonly Hex[]): Hex[][] {
  const out: Hex[][] = [leaves.slice()];
  for (let level = out[0]!; level.length > 1; ) {
    const next: Hex[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? hashPair(level[i]!, level[i + 1]!) : level[i]!);
    out.push(next);
    level = next;
  }
  return out;
}

export function merkleRoot(leaves: readonly Hex[]): Hex {
  if (leaves.length === 0) return ZERO_ROOT;
  return levels(leaves).at(-1)![0]!;
}

/** The sibling hashes from leaf `index` up to the root. */
export function merkleProof(leaves: readonly Hex[], index: number): Hex[] {
  if (index < 0 || index >= leaves.length) throw new RangeError(`leaf ${index} of ${leaves.length}`);
  const proof: Hex[] = [];
  const all = levels(leaves);
  let i = index;
  for (const level of all.slice(0, -1)) {
    const sibling = i ^ 1;
    if (sibling < level.length) proof.push(level[sibling]!);
    i >>= 1;
  }
  return proof;
}

export function verifyMerkleProof(proof: readonly Hex[], root: Hex, leaf: Hex): boolean {
  let h = leaf;
  for (const p of proof) h = hashPair(h, p);
  return h.toLowerCase() === root.toLowerCase();
}
