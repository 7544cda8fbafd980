import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesToHex, hashTypedData, recoverTypedDataAddress, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { READING_DOMAIN, READING_TYPES, readingMessage } from '../../core/reading-typed-data.js';
import type { ReadingEvent } from '../../core/events.js';
import { readingDigest, SignerCache } from '../../app/audit/signatures.js';
import type { EvidenceReading } from '../../app/audit/evidence.js';
import { fcParams } from '../helpers/fc.js';

const gateway = privateKeyToAccount(generatePrivateKey());
const other = privateKeyToAccount(generatePrivateKey());
const registered = gateway.address.toLowerCase();

const reading = fc.record({
  meterId: fc.string({ minLength: 1, maxLength: 24 }),
  ts: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  powerW: fc.option(fc.integer({ min: -50_000, max: 50_000 }), { nil: null }),
  importWh: fc.option(fc.nat(), { nil: null }),
  exportWh: fc.option(fc.nat(), { nil: null }),
  voltageV: fc.option(fc.integer({ min: 0, max: 300_000 }).map((x) => x / 1000), { nil: null }),
  frequencyHz: fc.option(fc.integer({ min: 45_000, max: 65_000 }).map((x) => x / 1000), { nil: null }),
  quality: fc.constantFrom('good' as const, 'suspect' as const),
});

const event = (r: Omit<EvidenceReading, 'gateway' | 'signature'>): ReadingEvent => ({ type: 'reading', ...r, ts: new Date(r.ts).toISOString() });

it('the audit EIP-712 digest equals viem hashTypedData, and the fast check agrees with recovery (right key, wrong key, flipped v, changed value)', async () => {
  const signers = new SignerCache();
  await fc.assert(
    fc.asyncProperty(reading, fc.nat({ max: 3 }), async (r, mode) => {
      const m = readingMessage(event(r));
      assert.equal(bytesToHex(readingDigest(m)), hashTypedData({ domain: READING_DOMAIN, types: READING_TYPES, primaryType: 'Reading', message: m }));
      const signer = mode === 1 ? other : gateway;
      let signature: string = await signer.signTypedData({ domain: READING_DOMAIN, types: READING_TYPES, primaryType: 'Reading', message: m });
      if (mode === 2) signature = signature.slice(0, 130) + (signature.endsWith('1b') ? '1c' : '1b');
      const stored: EvidenceReading = { ...r, gateway: gateway.address, signature, ...(mode === 3 ? { importWh: (r.importWh ?? 0) + 1 } : {}) };
      const truth = (await recoverTypedDataAddress({ domain: READING_DOMAIN, types: READING_TYPES, primaryType: 'Reading', message: readingMessage(event(stored)), signature: signature as Hex }).catch(() => null))?.toLowerCase() ?? null;
      assert.equal(await signers.signer(stored, registered), truth);
      assert.equal(truth === registered, mode === 0);
    }),
    fcParams('audit signatures', { numRuns: 150 }),
  );
  // the fast path (the gateway's key, byte-window tables) decided the valid ones, not recovery
  const before = signers.stats.fast;
  const m = readingMessage(event({ meterId: 'fast-1', ts: 1_800_000_000_000, powerW: 1, importWh: 2, exportWh: 3, voltageV: null, frequencyHz: null, quality: 'good' }));
  const signature = await gateway.signTypedData({ domain: READING_DOMAIN, types: READING_TYPES, primaryType: 'Reading', message: m });
  assert.equal(await signers.signer({ meterId: 'fast-1', ts: 1_800_000_000_000, powerW: 1, importWh: 2, exportWh: 3, voltageV: null, frequencyHz: null, quality: 'good', gateway: gateway.address, signature }, registered), registered);
  assert.equal(signers.stats.fast, before + 1);
  // and a signature of another key, or with the recovery bit flipped, fails the fast path and recovers elsewhere
  const flipped = signature.slice(0, 130) + (signature.endsWith('1b') ? '1c' : '1b');
  assert.notEqual(await signers.signer({ meterId: 'fast-1', ts: 1_800_000_000_000, powerW: 1, importWh: 2, exportWh: 3, voltageV: null, frequencyHz: null, quality: 'good', gateway: gateway.address, signature: flipped }, registered), registered);
  assert.equal(signers.stats.fast, before + 1);
});
