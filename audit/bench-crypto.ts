// npx tsx audit/bench-crypto.ts [-- --signatures 400]
//
// The audit's hashing and signature paths against the libraries' public
// functions they stand in for, per call (median of 7 rounds, microseconds):
// keccak256 (js-sha3 against viem's), a 200-leaf Merkle root (settlement's
// tree with each keccak), and checking a gateway's reading signatures (the
// batched window-table check against viem's recoverAddress and noble's
// recoverPublicKey). The figures beside keccak.ts and signatures.ts come
// from here. Not a test: they depend on the machine and its load.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { bytesToHex, keccak256, recoverAddress, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { secp256k1 } from '@noble/curves/secp256k1';
import { invert, mod } from '@noble/curves/abstract/modular';
import { merkleRoot } from '../settlement/merkle.js';
import { READING_DOMAIN, READING_TYPES, readingMessage } from '../core/reading-typed-data.js';
import { keccakBytes } from './keccak.js';
import { readingDigest, verifyAllAs, WindowTable } from './signatures.js';

const { values } = parseArgs({ options: { signatures: { type: 'string', default: '400' } } });
const n = Number(values.signatures);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
/** Median over 7 rounds of the time per call, µs. */
async function perCall(f: () => unknown, calls: number): Promise<number> {
  const xs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = performance.now();
    for (let i = 0; i < calls; i++) await f();
    xs.push(((performance.now() - t) / calls) * 1000);
  }
  return xs.sort((a, b) => a - b)[3]!;
}
const bytes = (len: number) => Uint8Array.from({ length: len }, (_, i) => (i * 151 + 7) & 255);
const row = (what: string, ours: number, lib: number) =>
  console.log(`  ${what}: ${ours.toFixed(1)} µs, library ${lib.toFixed(1)} µs (${(lib / ours).toFixed(1)}×)`);

console.log(`audit crypto, per call (load average ${load()} at the start):`);
for (const len of [320, 64]) {
  const data = bytes(len);
  row(
    `keccak256 of ${len} bytes, js-sha3 vs viem`,
    await perCall(() => keccakBytes(data), 5000),
    await perCall(() => keccak256(data, 'bytes'), 5000),
  );
}
const leaves = Array.from({ length: 200 }, (_, i) => keccak256(bytes(32 + i)));
row(
  'Merkle root of 200 leaves, js-sha3 vs viem keccak',
  await perCall(() => merkleRoot(leaves, keccakBytes), 40),
  await perCall(() => merkleRoot(leaves), 40),
);

const gateway = privateKeyToAccount(generatePrivateKey());
const items: { digest: Uint8Array; signature: Hex }[] = [];
for (let i = 0; i < n; i++) {
  const m = readingMessage({
    meterId: `h${i % 100}-grid`,
    ts: new Date(Date.UTC(2027, 0, 1) + i * 900_000).toISOString(),
    powerW: i,
    importWh: 1000 + i,
    exportWh: 500,
    voltageV: 230.4,
    frequencyHz: 50,
    quality: 'good',
  });
  items.push({
    digest: readingDigest(m),
    signature: await gateway.signTypedData({
      domain: READING_DOMAIN,
      types: READING_TYPES,
      primaryType: 'Reading',
      message: m,
    }),
  });
}
const Q = new WindowTable(secp256k1.ProjectivePoint.fromHex(gateway.publicKey.slice(2)));
verifyAllAs(Q, items.slice(0, 1)); // the generator's table, built once per thread
let k = 0;
const next = () => items[k++ % n]!;
const batched = (await perCall(() => verifyAllAs(Q, items), 1)) / n;
const recovered = await perCall(() => {
  const x = next();
  return recoverAddress({ hash: bytesToHex(x.digest), signature: x.signature });
}, n);
const noble = await perCall(() => {
  const x = next();
  const s = secp256k1.Signature.fromCompact(x.signature.slice(2, 130)).addRecoveryBit(
    parseInt(x.signature.slice(130), 16) - 27,
  );
  return s.recoverPublicKey(x.digest);
}, n);
row(`reading signature of the registered gateway, batch of ${n} vs viem recoverAddress`, batched, recovered);
const N = secp256k1.CURVE.n;
const P = secp256k1.ProjectivePoint.fromHex(gateway.publicKey.slice(2));
secp256k1.utils.precompute(8, P);
const verified = await perCall(() => {
  const x = next();
  const r = BigInt(`0x${x.signature.slice(2, 66)}`);
  const w = invert(BigInt(`0x${x.signature.slice(66, 130)}`), N);
  const R = secp256k1.ProjectivePoint.BASE.multiplyAndAddUnsafe(
    P,
    mod(BigInt(bytesToHex(x.digest)) * w, N),
    mod(r * w, N),
  )?.toAffine();
  return R !== undefined && mod(R.x, N) === r && Number(R.y & 1n) === parseInt(x.signature.slice(130), 16) - 27;
}, n);
row(`reading signature of the registered gateway, batch of ${n} vs noble recoverPublicKey`, batched, noble);
row(
  `reading signature of the registered gateway, batch of ${n} vs noble verify with the key precomputed (noble's multiplyAndAddUnsafe, its wNAF table of the key)`,
  batched,
  verified,
);
console.log(`  (load average ${load()} at the end)`);
