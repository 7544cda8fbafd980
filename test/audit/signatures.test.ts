import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesToHex, hashTypedData, recoverTypedDataAddress, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { READING_DOMAIN, READING_TYPES, readingMessage } from '../../core/reading-typed-data.js';
import type { ReadingEvent } from '../../core/events.js';
import { secp256k1 } from '@noble/curves/secp256k1';
import { readingDigest, SignerCache, verifiesAs, verifyAllAs, WindowTable } from '../../audit/signatures.js';
import type { EvidenceReading } from '../../audit/evidence.js';
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
  voltageV: fc.option(
    fc.integer({ min: 0, max: 300_000 }).map((x) => x / 1000),
    { nil: null },
  ),
  frequencyHz: fc.option(
    fc.integer({ min: 45_000, max: 65_000 }).map((x) => x / 1000),
    { nil: null },
  ),
  quality: fc.constantFrom('good' as const, 'suspect' as const),
});

const event = (r: Omit<EvidenceReading, 'gateway' | 'signature'>): ReadingEvent => ({
  type: 'reading',
  ...r,
  ts: new Date(r.ts).toISOString(),
});

it('the audit EIP-712 digest equals viem hashTypedData, and the fast check agrees with recovery (right key, wrong key, flipped v, changed value)', async () => {
  const signers = new SignerCache();
  await fc.assert(
    fc.asyncProperty(reading, fc.nat({ max: 3 }), async (r, mode) => {
      const m = readingMessage(event(r));
      assert.equal(
        bytesToHex(readingDigest(m)),
        hashTypedData({ domain: READING_DOMAIN, types: READING_TYPES, primaryType: 'Reading', message: m }),
      );
      const signer = mode === 1 ? other : gateway;
      let signature: string = await signer.signTypedData({
        domain: READING_DOMAIN,
        types: READING_TYPES,
        primaryType: 'Reading',
        message: m,
      });
      if (mode === 2) signature = signature.slice(0, 130) + (signature.endsWith('1b') ? '1c' : '1b');
      const stored: EvidenceReading = {
        ...r,
        gateway: gateway.address,
        signature,
        ...(mode === 3 ? { importWh: (r.importWh ?? 0) + 1 } : {}),
      };
      const truth =
        (
          await recoverTypedDataAddress({
            domain: READING_DOMAIN,
            types: READING_TYPES,
            primaryType: 'Reading',
            message: readingMessage(event(stored)),
            signature: signature as Hex,
          }).catch(() => null)
        )?.toLowerCase() ?? null;
      assert.equal(await signers.signer(stored, registered), truth);
      assert.equal(truth === registered, mode === 0);
    }),
    fcParams('audit signatures', { numRuns: 150 }),
  );
  // the fast path (the gateway's key, byte-window tables) decided the valid ones, not recovery
  const before = signers.stats.fast;
  const m = readingMessage(
    event({
      meterId: 'fast-1',
      ts: 1_800_000_000_000,
      powerW: 1,
      importWh: 2,
      exportWh: 3,
      voltageV: null,
      frequencyHz: null,
      quality: 'good',
    }),
  );
  const signature = await gateway.signTypedData({
    domain: READING_DOMAIN,
    types: READING_TYPES,
    primaryType: 'Reading',
    message: m,
  });
  assert.equal(
    await signers.signer(
      {
        meterId: 'fast-1',
        ts: 1_800_000_000_000,
        powerW: 1,
        importWh: 2,
        exportWh: 3,
        voltageV: null,
        frequencyHz: null,
        quality: 'good',
        gateway: gateway.address,
        signature,
      },
      registered,
    ),
    registered,
  );
  assert.equal(signers.stats.fast, before + 1);
  // and a signature of another key, or with the recovery bit flipped, fails the fast path and recovers elsewhere
  const flipped = signature.slice(0, 130) + (signature.endsWith('1b') ? '1c' : '1b');
  assert.notEqual(
    await signers.signer(
      {
        meterId: 'fast-1',
        ts: 1_800_000_000_000,
        powerW: 1,
        importWh: 2,
        exportWh: 3,
        voltageV: null,
        frequencyHz: null,
        quality: 'good',
        gateway: gateway.address,
        signature: flipped,
      },
      registered,
    ),
    registered,
  );
  assert.equal(signers.stats.fast, before + 1);
});

it('the batched window-table check accepts exactly the gateway key’s signatures: a wrong signature, another key’s and a flipped recovery bit are refused, and the answers match recovery', async () => {
  const signers = new SignerCache();
  const base = {
    meterId: 'batch-1',
    powerW: 5,
    importWh: 10,
    exportWh: 20,
    voltageV: 230.1,
    frequencyHz: 50,
    quality: 'good' as const,
  };
  const sign = (who: typeof gateway, ts: number) =>
    who.signTypedData({
      domain: READING_DOMAIN,
      types: READING_TYPES,
      primaryType: 'Reading',
      message: readingMessage(event({ ...base, ts })),
    });
  const items: { reading: EvidenceReading; expected: string; truth: string | null }[] = [];
  for (let i = 0; i < 40; i++) {
    const ts = 1_800_000_000_000 + i * 900_000;
    let signature: string = await sign(i % 5 === 1 ? other : gateway, ts);
    if (i % 5 === 2) signature = signature.slice(0, 130) + (signature.endsWith('1b') ? '1c' : '1b'); // flipped recovery bit
    if (i % 5 === 3)
      signature = `${signature.slice(0, 66)}${(BigInt(`0x${signature.slice(66, 130)}`) ^ 1n).toString(16).padStart(64, '0')}${signature.slice(130)}`; // s changed: a wrong signature
    const reading: EvidenceReading = { ...base, ts, gateway: gateway.address, signature };
    const truth =
      (
        await recoverTypedDataAddress({
          domain: READING_DOMAIN,
          types: READING_TYPES,
          primaryType: 'Reading',
          message: readingMessage(event(reading)),
          signature: signature as Hex,
        }).catch(() => null)
      )?.toLowerCase() ?? null;
    items.push({ reading, expected: registered, truth });
  }
  const got = await signers.signers(items.map(({ reading, expected }) => ({ reading, expected })));
  assert.deepEqual(
    got,
    items.map((x) => x.truth),
  );
  items.forEach((x, i) => assert.equal(x.truth === registered, i % 5 === 0 || i % 5 === 4, `reading ${i}`));
  // 16 valid ones: the first recovered (it teaches the key), the other 15 by the fast check; the 24 others recovered
  assert.deepEqual(signers.stats, { fast: 15, recovered: 25 });
  // the check itself, without the cache and recovery around it
  const digest = readingDigest(readingMessage(event({ ...base, ts: 1_800_000_000_000 })));
  const Q = new WindowTable(secp256k1.ProjectivePoint.fromHex(gateway.publicKey.slice(2)));
  const good = items[0]!.reading.signature!;
  assert.deepEqual(
    verifyAllAs(
      Q,
      [
        good,
        good.slice(0, 130) + (good.endsWith('1b') ? '1c' : '1b'),
        `${good.slice(0, 66)}${'0'.repeat(64)}${good.slice(130)}`,
        'not a signature',
      ].map((signature) => ({ digest, signature })),
    ),
    [true, false, false, false],
  );
  const byOther = await sign(other, 1_800_000_000_000);
  assert.equal(verifiesAs(Q, digest, byOther), false);
  assert.equal(
    verifiesAs(new WindowTable(secp256k1.ProjectivePoint.fromHex(other.publicKey.slice(2))), digest, byOther),
    true,
  );
});

it('a window table holds j·4096^row·P for every row and j = 1..2048 (spot checks against noble, first, second and last of each row)', () => {
  const P = secp256k1.ProjectivePoint.fromHex(gateway.publicKey.slice(2));
  const t = new WindowTable(P);
  for (let row = 0; row < 22; row++) {
    for (const j of [1, 2, 3, 1000 + row, 2048]) {
      const want = P.multiply((BigInt(j) * 4096n ** BigInt(row)) % secp256k1.CURVE.n).toAffine();
      assert.equal(t.xs[row * 2048 + j - 1], want.x, `row ${row} j ${j} x`);
      assert.equal(t.ys[row * 2048 + j - 1], want.y, `row ${row} j ${j} y`);
    }
  }
});

it('a reading asked twice in one call (the boundary of two intervals checked together) is checked once, with the same answer', async () => {
  const signers = new SignerCache();
  const ts = 1_800_000_900_000;
  const r = {
    meterId: 'twice-1',
    ts,
    powerW: 1,
    importWh: 2,
    exportWh: 3,
    voltageV: null,
    frequencyHz: null,
    quality: 'good' as const,
  };
  const signature = await gateway.signTypedData({
    domain: READING_DOMAIN,
    types: READING_TYPES,
    primaryType: 'Reading',
    message: readingMessage(event(r)),
  });
  const reading: EvidenceReading = { ...r, gateway: gateway.address, signature };
  assert.deepEqual(
    await signers.signers([
      { reading, expected: registered },
      { reading, expected: registered },
    ]),
    [registered, registered],
  );
  assert.deepEqual(signers.stats, { fast: 0, recovered: 1 });
});

it('the audit EIP-712 digest equals viem hashTypedData around the 64-bit words it writes directly (±2^63, 2^64, 2^255)', () => {
  const base = readingMessage(
    event({
      meterId: 'm1',
      ts: 1_800_000_000_000,
      powerW: 0,
      importWh: 0,
      exportWh: 0,
      voltageV: null,
      frequencyHz: null,
      quality: 'good',
    }),
  );
  const edges = [
    0n,
    1n,
    -1n,
    (1n << 63n) - 1n,
    1n << 63n,
    -(1n << 63n),
    -(1n << 63n) - 1n,
    1n << 64n,
    (1n << 255n) - 1n,
    -(1n << 255n),
  ];
  for (const v of edges) {
    const m = { ...base, powerW: v, importWh: v < 0n ? -v : v, voltageMv: v < 0n ? -v - 1n : v };
    assert.equal(
      bytesToHex(readingDigest(m)),
      hashTypedData({ domain: READING_DOMAIN, types: READING_TYPES, primaryType: 'Reading', message: m }),
      `value ${v}`,
    );
  }
});
