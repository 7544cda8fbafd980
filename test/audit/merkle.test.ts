import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesToHex } from 'viem';
import { merkleRoot, merkleRootOfBytes } from '../../settlement/merkle.js';
import { keccakBytes } from '../../audit/keccak.js';
import { fcParams } from '../helpers/fc.js';

it('the audit’s Merkle root (settlement’s tree with the audit’s keccak, on hex or on bytes) equals settlement’s merkleRoot (sorted pairs, odd node carried up, empty → zero)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 40 }),
      fc.boolean(),
      (leaves, upper) => {
        const hex = leaves.map(
          (l) => (upper ? bytesToHex(l).toUpperCase().replace('0X', '0x') : bytesToHex(l)) as `0x${string}`,
        );
        assert.equal(merkleRoot(hex, keccakBytes).toLowerCase(), merkleRoot(hex).toLowerCase());
        // the tree on bytes (the audit's roots): the same root, lower-case
        assert.equal(merkleRootOfBytes(leaves, keccakBytes), merkleRoot(hex).toLowerCase());
      },
    ),
    fcParams('audit merkle', { numRuns: 200 }),
  );
  // equal leaves: a pair of identical hashes
  const same = `0x${'ab'.repeat(32)}` as const;
  assert.equal(merkleRoot([same, same, same], keccakBytes), merkleRoot([same, same, same]));
});
