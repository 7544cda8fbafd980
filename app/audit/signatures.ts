import { secp256k1 } from '@noble/curves/secp256k1';
import { invert, mod } from '@noble/curves/abstract/modular';
import { hexToBytes, keccak256, recoverAddress, recoverPublicKey, stringToBytes, type Hex } from 'viem';
import { READING_DOMAIN, READING_TYPES, readingMessage, type ReadingMessage } from '../../core/reading-typed-data.js';
import type { EvidenceReading } from './evidence.js';

/**
 * Who signed a stored reading (EIP-712, core/reading-typed-data.ts).
 *
 * A month of readings is ~300 000 signatures, and public-key recovery in
 * JavaScript costs ~1–2 ms each. So the audit recovers each registered
 * gateway's public key once (viem's recoverPublicKey, from a reading that
 * recovers to the registered address) and then checks every other signature
 * against that key: R = (e·s⁻¹)·G + (r·s⁻¹)·Q, both by byte-window tables
 * (ByteTable; noble 1.9.1's `multiplyUnsafe` with precomputed windows gave
 * wrong points for full-size scalars here, its constant-time `multiply` is
 * ~3× slower), accepting only when R.x ≡ r and R.y's parity is the
 * signature's recovery bit — exactly when recovery would return Q, i.e. the
 * registered address. The EIP-712 digest is built directly from the typed
 * data's encoding (a test checks it equals viem's hashTypedData). Anything
 * that fails the fast path is recovered the slow way, so the reported signer
 * is what recovery gives.
 */

const Point = secp256k1.ProjectivePoint;
const N = secp256k1.CURVE.n;
const k = (b: Uint8Array): Uint8Array => keccak256(b, 'bytes');
const typeString = (name: string, fields: readonly { name: string; type: string }[]) => `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(',')})`;
const READING_TYPEHASH = k(stringToBytes(typeString('Reading', READING_TYPES.Reading)));
const DOMAIN_SEPARATOR = k(
  concat([k(stringToBytes(typeString('EIP712Domain', [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }]))), k(stringToBytes(READING_DOMAIN.name)), k(stringToBytes(READING_DOMAIN.version))]),
);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function word(v: bigint): Uint8Array {
  const x = v < 0n ? (1n << 256n) + v : v;
  return hexToBytes(`0x${x.toString(16).padStart(64, '0')}`);
}

/** The EIP-712 digest of a reading message (= viem hashTypedData with READING_DOMAIN / READING_TYPES). */
export function readingDigest(m: ReadingMessage): Uint8Array {
  const struct = k(
    concat([
      READING_TYPEHASH,
      k(stringToBytes(m.meterId)),
      word(m.ts),
      word(m.powerW),
      word(m.importWh),
      word(m.exportWh),
      word(m.voltageMv),
      word(m.frequencyMhz),
      word(BigInt(m.present)),
      k(stringToBytes(m.quality)),
    ]),
  );
  return k(concat([new Uint8Array([0x19, 0x01]), DOMAIN_SEPARATOR, struct]));
}

const toBig = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
type ProjPoint = InstanceType<typeof Point>;

/**
 * Fixed-base multiplication by a byte-window table: rows[i][j − 1] = j·256^i·P
 * (32 rows × 255 affine points, ~40 ms to build), so k·P is at most 32
 * additions. Variable time, which is fine here: everything is public.
 */
class ByteTable {
  readonly #rows: ProjPoint[][] = [];

  constructor(P: ProjPoint) {
    let base = P;
    for (let i = 0; i < 32; i++) {
      const row: ProjPoint[] = [];
      let acc = base;
      for (let j = 1; j <= 255; j++) {
        row.push(acc);
        acc = acc.add(base);
      }
      this.#rows.push(Point.normalizeZ(row));
      base = acc; // 256·base
    }
  }

  mul(k: bigint): ProjPoint {
    const hex = k.toString(16).padStart(64, '0');
    let R = Point.ZERO;
    for (let i = 0; i < 32; i++) {
      const d = parseInt(hex.slice(62 - 2 * i, 64 - 2 * i), 16);
      if (d !== 0) R = R.add(this.#rows[i]![d - 1]!);
    }
    return R;
  }
}

let G_TABLE: ByteTable | undefined;

/** Checks that `signature` over `digest` is by the key with table `Q` with the recovery bit the signature states. */
function verifiesAs(Q: ByteTable, digest: Uint8Array, signature: string): boolean {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return false;
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = parseInt(signature.slice(130, 132), 16);
  const bit = v >= 27 ? v - 27 : v;
  if (r <= 0n || r >= N || s <= 0n || s >= N || (bit !== 0 && bit !== 1)) return false;
  const w = invert(s, N);
  const e = mod(toBig(digest), N);
  G_TABLE ??= new ByteTable(Point.BASE);
  const R = G_TABLE.mul(mod(e * w, N)).add(Q.mul(mod(r * w, N)));
  if (R.equals(Point.ZERO)) return false;
  const a = R.toAffine();
  return a.x === r && Number(a.y & 1n) === bit;
}

export class SignerCache {
  readonly #cache = new Map<string, string | null>();
  /** Registered gateway address (lower-case) → its public key point, wNAF-precomputed. */
  readonly #keys = new Map<string, ByteTable>();
  /** How many signatures took the fast path and how many were recovered (tests, benchmark). */
  readonly stats = { fast: 0, recovered: 0 };

  /** The signer of `r` (lower-case address; null when unsigned or malformed). `expected`: the registered gateway, for the fast path. */
  async signer(r: EvidenceReading, expected?: string | null): Promise<string | null> {
    if (r.signature === null) return null;
    const key = `${r.meterId}\u0000${r.ts}\u0000${r.powerW}\u0000${r.importWh}\u0000${r.exportWh}\u0000${r.voltageV}\u0000${r.frequencyHz}\u0000${r.quality}\u0000${r.signature}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    let out: string | null;
    try {
      const digest = readingDigest(readingMessage({ ...r, ts: new Date(r.ts).toISOString() }));
      const Q = expected ? this.#keys.get(expected) : undefined;
      if (Q && expected && verifiesAs(Q, digest, r.signature)) {
        out = expected;
        this.stats.fast++;
      } else {
        this.stats.recovered++;
        const hash = `0x${Buffer.from(digest).toString('hex')}` as Hex;
        out = (await recoverAddress({ hash, signature: r.signature as Hex })).toLowerCase();
        if (expected && out === expected && !this.#keys.has(expected)) {
          this.#keys.set(expected, new ByteTable(Point.fromHex((await recoverPublicKey({ hash, signature: r.signature as Hex })).slice(2))));
        }
      }
    } catch {
      out = null; // malformed signature or values the typed data cannot carry
    }
    if (this.#cache.size > 400_000) this.#cache.clear();
    this.#cache.set(key, out);
    return out;
  }
}
