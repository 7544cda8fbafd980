import { bytesToHex, hexToBytes, keccak256, type Hex } from 'viem';

/**
 * A binary Merkle tree that OpenZeppelin's MerkleProof verifies: each pair is
 * hashed in sorted order (keccak256(min(a,b) ‖ max(a,b))), so a proof needs no
 * left/right flags. An odd node at the end of a level is carried up unchanged.
 * The root of no leaves is bytes32(0).
 *
 * The levels are built on bytes (no hex between levels), with viem's keccak256
 * unless the caller passes another implementation of it: the audit takes two
 * roots per interval and passes its faster one (audit/keccak.ts).
 */

export const ZERO_ROOT: Hex = `0x${'0'.repeat(64)}`;

/** keccak256 from bytes to bytes. */
export type Keccak = (data: Uint8Array) => Uint8Array;
const viemKeccak: Keccak = (data) => keccak256(data, 'bytes');

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function hashPair(a: Uint8Array, b: Uint8Array, keccak: Keccak): Uint8Array {
  const pair = new Uint8Array(a.length + b.length);
  if (compareBytes(a, b) <= 0) {
    pair.set(a);
    pair.set(b, a.length);
  } else {
    pair.set(b);
    pair.set(a, b.length);
  }
  return keccak(pair);
}

/** All levels, leaves first. */
function levels(leaves: readonly Hex[], keccak: Keccak): Uint8Array[][] {
  return levelsOfBytes(
    leaves.map((l) => hexToBytes(l)),
    keccak,
  );
}

function levelsOfBytes(leaves: Uint8Array[], keccak: Keccak): Uint8Array[][] {
  const out: Uint8Array[][] = [leaves];
  for (let level = out[0]!; level.length > 1;) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? hashPair(level[i]!, level[i + 1]!, keccak) : level[i]!);
    out.push(next);
    level = next;
  }
  return out;
}

export function merkleRoot(leaves: readonly Hex[], keccak: Keccak = viemKeccak): Hex {
  if (leaves.length === 0) return ZERO_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  return bytesToHex(levels(leaves, keccak).at(-1)![0]!);
}

/**
 * merkleRoot of leaves given as bytes (the audit hashes its leaves to bytes: two roots per interval, and the hex between
 * its hash and the tree was a sixth of their time). The root is lower-case hex, also for a single leaf.
 */
export function merkleRootOfBytes(leaves: readonly Uint8Array[], keccak: Keccak = viemKeccak): Hex {
  if (leaves.length === 0) return ZERO_ROOT;
  return bytesToHex(levelsOfBytes([...leaves], keccak).at(-1)![0]!);
}

/** The sibling hashes from leaf `index` up to the root. */
export function merkleProof(leaves: readonly Hex[], index: number): Hex[] {
  if (index < 0 || index >= leaves.length) throw new RangeError(`leaf ${index} of ${leaves.length}`);
  const proof: Hex[] = [];
  const all = levels(leaves, viemKeccak);
  let i = index;
  for (const level of all.slice(0, -1)) {
    const sibling = i ^ 1;
    if (sibling < level.length) proof.push(bytesToHex(level[sibling]!));
    i >>= 1;
  }
  return proof;
}

export function verifyMerkleProof(proof: readonly Hex[], root: Hex, leaf: Hex): boolean {
  let h = hexToBytes(leaf);
  for (const p of proof) h = hashPair(h, hexToBytes(p), viemKeccak);
  return bytesToHex(h) === root.toLowerCase();
}
