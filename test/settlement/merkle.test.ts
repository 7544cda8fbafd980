import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { keccak256, toHex, type Hex } from 'viem';
import { fcParams } from '../helpers/fc.js';
import { merkleProof, merkleRoot, verifyMerkleProof, ZERO_ROOT } from '../../settlement/merkle.js';

const leavesArb = fc
  .array(fc.integer(), { minLength: 1, maxLength: 70 })
  .map((xs) => xs.map((x, i) => keccak256(toHex(`${i}:${x}`))));

it('every leaf proves into the root; another leaf or a changed proof does not', () => {
  fc.assert(
    fc.property(leavesArb, fc.nat(), (leaves, pick) => {
      const root = merkleRoot(leaves);
      for (let i = 0; i < leaves.length; i++) assert.ok(verifyMerkleProof(merkleProof(leaves, i), root, leaves[i]!));
      const i = pick % leaves.length;
      const stranger = keccak256(toHex(`not a leaf ${pick}`));
      assert.ok(!verifyMerkleProof(merkleProof(leaves, i), root, stranger));
      const proof = merkleProof(leaves, i);
      if (proof.length > 0) {
        const bad: Hex[] = [...proof];
        bad[0] = keccak256(bad[0]!);
        assert.ok(!verifyMerkleProof(bad, root, leaves[i]!));
      }
    }),
    fcParams('merkle proofs', { numRuns: 200 }),
  );
});

it('no leaves: the zero root; one leaf: the leaf itself', () => {
  assert.equal(merkleRoot([]), ZERO_ROOT);
  const leaf = keccak256(toHex('x'));
  assert.equal(merkleRoot([leaf]), leaf);
  assert.deepEqual(merkleProof([leaf], 0), []);
});
