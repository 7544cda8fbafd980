import type { Hex } from 'viem';
import { keccakBytes } from './keccak.js';
import { ZERO_ROOT } from '../settlement/merkle.js';

/**
 * settlement/merkle.ts merkleRoot (sorted pairs, an odd node carried up, no
 * leaves → 0x00…00) computed on bytes: the audit takes two roots per interval
 * (readings, trades), and settlement's version turns every node into hex and
 * back. A test checks both give the same root.
 */
export function merkleRootOf(leaves: readonly Hex[]): Hex {
  if (leaves.length === 0) return ZERO_ROOT;
  let level: Buffer[] = leaves.map((l) => Buffer.from(l.slice(2), 'hex'));
  const pair = Buffer.alloc(64);
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i]!;
      const b = level[i + 1];
      if (!b) {
        next.push(a);
        continue;
      }
      const [lo, hi] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a];
      lo.copy(pair, 0);
      hi.copy(pair, 32);
      next.push(Buffer.from(keccakBytes(pair)));
    }
    level = next;
  }
  return `0x${level[0]!.toString('hex')}`;
}
