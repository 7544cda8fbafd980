import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesToHex, keccak256, stringToHex } from 'viem';
import { keccakBytes, keccakHexOfString } from '../../audit/keccak.js';
import { readingLeaf, tradeLeaf } from '../../settlement/inputs.js';
import { auditTradeLeaf } from '../../audit/check-clearing.js';
import { readingsRootOf } from '../../audit/check-readings.js';
import { readingsRoot } from '../../settlement/inputs.js';
import { fcParams } from '../helpers/fc.js';
import { creditsRootOf } from '../../audit/check-credits.js';
import { buildCreditChunks, MAX_UINT96 } from '../../settlement/chain/commitment.js';

it('the audit’s keccak equals viem’s keccak256 on any bytes and any string (every length around the 136-byte block)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.string({ unit: 'binary', maxLength: 300 }), (bytes, s) => {
      assert.equal(bytesToHex(keccakBytes(bytes)), keccak256(bytes));
      assert.equal(keccakHexOfString(s), keccak256(stringToHex(s)));
    }),
    fcParams('audit keccak = viem', { numRuns: 500 }),
  );
  for (let n = 130; n <= 140; n++)
    assert.equal(bytesToHex(keccakBytes(new Uint8Array(n).fill(n))), keccak256(new Uint8Array(n).fill(n)));
});

it('the audit’s readings root (fast leaf hashes, cached) equals settlement’s readingsRoot', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          meterId: fc.constantFrom('h01-grid', 'h02-grid', 'ü-grid'),
          ts: fc.nat(),
          importWh: fc.nat(),
          exportWh: fc.nat(),
          signature: fc.constantFrom('0xab', `0x${'12'.repeat(65)}`),
        }),
        { maxLength: 12 },
      ),
      (leaves) => {
        assert.equal(readingsRootOf(leaves), readingsRoot(leaves).toLowerCase());
        if (leaves[0]) assert.equal(readingsRootOf([leaves[0]]), readingLeaf(leaves[0]));
        // As check 1 calls it: reading objects with more fields than a leaf, hashes kept by object across calls (a
        // reading ends one interval and starts the next), in another order the second time.
        const kept = new WeakMap();
        const readings = leaves.map((l, i) => ({ ...l, powerW: i, quality: 'good', receivedAt: i }));
        assert.equal(readingsRootOf(readings, kept), readingsRoot(leaves).toLowerCase());
        const back = [...readings].reverse();
        assert.equal(readingsRootOf(back, kept), readingsRoot([...leaves].reverse()).toLowerCase());
      },
    ),
    fcParams('audit readings root = settlement', { numRuns: 200 }),
  );
});

it('the audit’s trade leaf (js-sha3) equals settlement’s tradeLeaf', () => {
  fc.assert(
    fc.property(
      fc.record(
        {
          buyOrder: fc.string(),
          sellOrder: fc.string(),
          buyer: fc.constantFrom('h01', 'h02', 'ü'),
          seller: fc.constantFrom('h03', 'h04'),
          energyWh: fc.nat(),
          price: fc.constantFrom('0.12', '0.3'),
          fee: fc.constantFrom('0', '0.02'),
          buyerPrice: fc.constantFrom('0.15'),
          kind: fc.constantFrom('forward' as const, 'metered' as const),
          seq: fc.nat(),
          deliveredWh: fc.nat(),
        },
        {
          requiredKeys: [
            'buyOrder',
            'sellOrder',
            'buyer',
            'seller',
            'energyWh',
            'price',
            'fee',
            'kind',
            'seq',
            'deliveredWh',
          ],
        },
      ),
      (t) => assert.equal(auditTradeLeaf(t), tradeLeaf(t)),
    ),
    fcParams('audit trade leaf = settlement', { numRuns: 200 }),
  );
});

it('the audit’s credits root (packed by hand, js-sha3) equals settlement’s buildCreditChunks root', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.array(
        fc.record({
          account: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => bytesToHex(b)),
          wh: fc.bigInt({ min: 1n, max: MAX_UINT96 }),
        }),
        { maxLength: 40 },
      ),
      fc.integer({ min: 1, max: 50 }),
      (tokenId, credits, chunkSize) => {
        assert.equal(
          creditsRootOf(tokenId, credits, chunkSize),
          buildCreditChunks(tokenId, credits, chunkSize).root.toLowerCase(),
        );
      },
    ),
    fcParams('audit credits root = settlement', { numRuns: 200 }),
  );
});
