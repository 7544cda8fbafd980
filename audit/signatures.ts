import { secp256k1 } from '@noble/curves/secp256k1';
import { invert, mod } from '@noble/curves/abstract/modular';
import { recoverAddress, recoverPublicKey, stringToBytes, type Hex } from 'viem';
import { keccakBytes } from './keccak.js';
import { READING_DOMAIN, READING_TYPES, readingMessage, type ReadingMessage } from '../core/reading-typed-data.js';
import type { EvidenceReading } from './evidence.js';

/**
 * Who signed a stored reading (EIP-712, core/reading-typed-data.ts).
 *
 * A month of readings is ~290 000 signatures, and public-key recovery in
 * JavaScript costs ~1–2 ms each. So the audit recovers each registered
 * gateway's public key once (viem's recoverPublicKey, from a reading that
 * recovers to the registered address) and then checks every other signature
 * against that key: R = (e·s⁻¹)·G + (r·s⁻¹)·Q, accepting only when R.x = r
 * and R.y's parity is the signature's recovery bit — exactly when recovery
 * would return Q, i.e. the registered address. Anything else, and the rare
 * inputs the fast arithmetic leaves out (a doubling or the point at infinity
 * on the way), is recovered the slow way, so the reported signer is always
 * what recovery gives.
 *
 * Measured per signature (2 cores shared with other work, so relative):
 * noble's complete projective addition ~13 µs; a fixed-base table of
 * byte windows (32 additions per scalar) made the check ~0.5–0.9 ms; OpenSSL
 * through node:crypto (createECDH: setPrivateKey for k·G, computeSecret for
 * k·Q) took 0.36 ms for k·G and 1.27 ms for k·Q alone — slower than
 * JavaScript for this curve, so it is not used. What is used: tables of
 * signed 12-bit windows (WindowTable: 22 rows × 2 048 affine points per
 * base, 44 additions per check instead of 64), the additions of a batch of
 * signatures done in step in affine coordinates with one shared inversion
 * per row (~6 multiplications mod p per addition; Jacobian mixed additions
 * take 11). CPU per signature, digest included, same conditions: byte
 * windows ~0.57 ms, 12-bit windows with Jacobian additions ~0.24–0.34 ms,
 * in step ~0.18–0.25 ms. Against the libraries' public functions,
 * `npx tsx audit/bench-crypto.ts` (400 signatures of one gateway, 2 cores,
 * load average 11): this batch 0.28 ms per signature; noble's
 * multiplyAndAddUnsafe with its wNAF table of the key 0.91 ms; viem's
 * recoverAddress 2.66 ms — for a month's ~290 000 signatures 81 s of CPU
 * against 265 s and 770 s. The EIP-712 digest is built directly from the typed
 * data's encoding (a test checks it equals viem's hashTypedData), with the
 * string fields' hashes cached.
 */

const Point = secp256k1.ProjectivePoint;
const N = secp256k1.CURVE.n;
const k = keccakBytes;
const typeString = (name: string, fields: readonly { name: string; type: string }[]) =>
  `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(',')})`;
const READING_TYPEHASH = k(stringToBytes(typeString('Reading', READING_TYPES.Reading)));
const DOMAIN_SEPARATOR = k(
  concat([
    k(
      stringToBytes(
        typeString('EIP712Domain', [
          { name: 'name', type: 'string' },
          { name: 'version', type: 'string' },
        ]),
      ),
    ),
    k(stringToBytes(READING_DOMAIN.name)),
    k(stringToBytes(READING_DOMAIN.version)),
  ]),
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

const TWO256 = 1n << 256n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
/** keccak256 of a string field, cached: a month repeats the same meter ids and qualities ~2 880 times. */
const stringHashes = new Map<string, Uint8Array>();
function stringHash(v: string): Uint8Array {
  let h = stringHashes.get(v);
  if (!h) {
    if (stringHashes.size > 100_000) stringHashes.clear();
    stringHashes.set(v, (h = k(stringToBytes(v))));
  }
  return h;
}

/** The EIP-712 digest of a reading message (= viem hashTypedData with READING_DOMAIN / READING_TYPES). */
export function readingDigest(m: ReadingMessage): Uint8Array {
  const struct = Buffer.alloc(320);
  struct.set(READING_TYPEHASH, 0);
  struct.set(stringHash(m.meterId), 32);
  [m.ts, m.powerW, m.importWh, m.exportWh, m.voltageMv, m.frequencyMhz, BigInt(m.present)].forEach((v, i) => {
    const at = 64 + 32 * i;
    // A 64-bit value (every reading's): its last 8 bytes, sign-extended — the hex string of each word cost more than
    // the hash.
    if (v >= INT64_MIN && v <= INT64_MAX) {
      struct.writeBigInt64BE(v, at + 24);
      if (v < 0n) struct.fill(0xff, at, at + 24);
    } else struct.write((v < 0n ? TWO256 + v : v).toString(16).padStart(64, '0'), at, 'hex');
  });
  struct.set(stringHash(m.quality), 288);
  const outer = new Uint8Array(66);
  outer[0] = 0x19;
  outer[1] = 0x01;
  outer.set(DOMAIN_SEPARATOR, 2);
  outer.set(k(struct), 34);
  return k(outer);
}

const toBig = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
type ProjPoint = InstanceType<typeof Point>;
const FP = secp256k1.CURVE.Fp.ORDER;

/**
 * Window bits, rows and the largest digit magnitude of a WindowTable: signed digits in [−2¹¹, 2¹¹], 22 × 12 bits ≥ 256
 * bits plus a carry.
 */
const W = 12;
const ROWS = 22;
const HALF = 1 << (W - 1);

/**
 * Fixed-base multiplication by signed 12-bit windows: xs/ys[row·2048 + j − 1]
 * are the affine coordinates of j·4096^row·P for j = 1..2048 (a negative digit
 * uses −y). ~45 000 affine additions, the 22 rows in step sharing one
 * inversion per step (noble's own additions took 0.3–0.7 s per table).
 * Variable time, which is fine here: everything is public.
 */
export class WindowTable {
  readonly xs: bigint[] = new Array<bigint>(ROWS * HALF).fill(0n);
  readonly ys: bigint[] = new Array<bigint>(ROWS * HALF).fill(0n);

  constructor(P: ProjPoint) {
    // Each row's base 4096^row·P and its double with noble; then j·base for
    // j = 3..2048 across all rows in step, affine, one inversion per step.
    const bases: ProjPoint[] = [];
    for (let row = 0, b = P; row < ROWS; row++) {
      bases.push(b);
      for (let i = 0; i < W; i++) b = b.double();
    }
    const one = Point.normalizeZ(bases);
    const two = Point.normalizeZ(bases.map((b) => b.double()));
    for (let row = 0; row < ROWS; row++) {
      this.xs[row * HALF] = one[row]!.px;
      this.ys[row * HALF] = one[row]!.py;
      this.xs[row * HALF + 1] = two[row]!.px;
      this.ys[row * HALF + 1] = two[row]!.py;
    }
    const dx: bigint[] = new Array<bigint>(ROWS);
    for (let j = 2; j < HALF; j++) {
      // (j + 1)·base = j·base + base; j·base ≠ ±base for 2 ≤ j < 2048, so never a doubling
      for (let row = 0; row < ROWS; row++) {
        let h = this.xs[row * HALF]! - this.xs[row * HALF + j - 1]!;
        if (h < 0n) h += FP;
        dx[row] = h;
      }
      const inv = invertAll(dx, FP);
      for (let row = 0; row < ROWS; row++) {
        const bx = this.xs[row * HALF]!;
        const by = this.ys[row * HALF]!;
        const x1 = this.xs[row * HALF + j - 1]!;
        const y1 = this.ys[row * HALF + j - 1]!;
        let dy = by - y1;
        if (dy < 0n) dy += FP;
        const l = (dy * inv[row]!) % FP;
        let x3 = (l * l - x1 - bx) % FP;
        if (x3 < 0n) x3 += FP;
        let y3 = (l * (x1 - x3) - y1) % FP;
        if (y3 < 0n) y3 += FP;
        this.xs[row * HALF + j] = x3;
        this.ys[row * HALF + j] = y3;
      }
    }
  }
}

let G_TABLE: WindowTable | undefined;

/** Builds the generator's table now (a worker does it while the main thread reads the chain). */
export function warmUp(): void {
  G_TABLE ??= new WindowTable(Point.BASE);
}

/** Parses r, s and the recovery bit of a 65-byte hex signature; null when malformed or out of range. */
function parseSignature(signature: string): { r: bigint; s: bigint; bit: number } | null {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return null;
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = parseInt(signature.slice(130, 132), 16);
  const bit = v >= 27 ? v - 27 : v;
  if (r <= 0n || r >= N || s <= 0n || s >= N || (bit !== 0 && bit !== 1)) return null;
  return { r, s, bit };
}

/**
 * The inverses of non-zero values mod a prime `m` with a single inversion (Montgomery's trick: 3 multiplications each).
 */
function invertAll(xs: readonly bigint[], m: bigint): bigint[] {
  const n = xs.length;
  const prefix: bigint[] = new Array<bigint>(n);
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    prefix[i] = acc;
    acc = (acc * xs[i]!) % m;
  }
  let inv = n ? invert(acc, m) : 1n;
  for (let i = n - 1; i >= 0; i--) {
    const p = prefix[i]!;
    // the prefix's slot takes the inverse: one array, not two
    prefix[i] = (inv * p) % m;
    inv = (inv * xs[i]!) % m;
  }
  return prefix;
}

/**
 * Signed base-4096 digits of k (0 ≤ k < 2²⁶³) into `out` from `at`, least significant first; false when k does not fit
 * the rows.
 */
function digitsOf(k: bigint, out: Int32Array, at: number): boolean {
  const hex = k.toString(16).padStart(ROWS * 3, '0');
  let carry = 0;
  for (let row = 0; row < ROWS; row++) {
    const end = hex.length - 3 * row;
    let d = parseInt(hex.slice(end - 3, end), 16) + carry;
    carry = 0;
    if (d > HALF) {
      d -= 2 * HALF;
      carry = 1;
    }
    out[at + row] = d;
  }
  return carry === 0 && hex.length === ROWS * 3;
}

/**
 * For each (digest, signature): true only when the signature recovers to the
 * key whose table is `Q` — R = (e·s⁻¹)·G + (r·s⁻¹)·Q has R.x = r and R.y's
 * parity = the recovery bit. False means "not shown here", never "shown not
 * to be": the caller recovers those.
 *
 * The sums are built for the whole batch in step: at each of the 44 window
 * rows every signature adds one table point in affine coordinates, and the
 * batch shares one inversion per row (Montgomery's trick), so an addition
 * costs ~6 multiplications mod p instead of 11 in Jacobian coordinates. A sum
 * that meets a doubling or the point at infinity on the way (same x) is left
 * to recovery.
 */
export function verifyAllAs(Q: WindowTable, items: readonly { digest: Uint8Array; signature: string }[]): boolean[] {
  const out = items.map(() => false);
  const sigs = items.map((x) => parseSignature(x.signature));
  const idx = sigs.flatMap((sig, i) => (sig ? [i] : []));
  const n = idx.length;
  const ws = invertAll(
    idx.map((i) => sigs[i]!.s),
    N,
  );
  G_TABLE ??= new WindowTable(Point.BASE);
  const STEPS = 2 * ROWS;
  const digits = new Int32Array(n * STEPS);
  const bad = new Uint8Array(n);
  const empty = new Uint8Array(n).fill(1);
  const X: bigint[] = new Array<bigint>(n).fill(0n);
  const Y: bigint[] = new Array<bigint>(n).fill(0n);
  for (let j = 0; j < n; j++) {
    const sig = sigs[idx[j]!]!;
    const w = ws[j]!;
    const u1 = mod(mod(toBig(items[idx[j]!]!.digest), N) * w, N);
    const u2 = mod(sig.r * w, N);
    if (!digitsOf(u1, digits, j * STEPS) || !digitsOf(u2, digits, j * STEPS + ROWS)) bad[j] = 1;
  }
  const act: number[] = [];
  const ax: bigint[] = [];
  const ay: bigint[] = [];
  const dx: bigint[] = [];
  for (let step = 0; step < STEPS; step++) {
    const t = step < ROWS ? G_TABLE : Q;
    const base = (step % ROWS) * HALF;
    act.length = ax.length = ay.length = dx.length = 0;
    for (let j = 0; j < n; j++) {
      if (bad[j]) continue;
      const d = digits[j * STEPS + step]!;
      if (d === 0) continue;
      const k = base + (d > 0 ? d : -d) - 1;
      const x2 = t.xs[k]!;
      const y2 = d > 0 ? t.ys[k]! : FP - t.ys[k]!;
      if (empty[j]) {
        X[j] = x2;
        Y[j] = y2;
        empty[j] = 0;
        continue;
      }
      let h = x2 - X[j]!;
      if (h < 0n) h += FP;
      if (h === 0n) {
        bad[j] = 1; // same x: a doubling or the point at infinity
        continue;
      }
      act.push(j);
      ax.push(x2);
      ay.push(y2);
      dx.push(h);
    }
    const inv = invertAll(dx, FP);
    for (let a = 0; a < act.length; a++) {
      const j = act[a]!;
      const x1 = X[j]!;
      const y1 = Y[j]!;
      const x2 = ax[a]!;
      let dy = ay[a]! - y1;
      if (dy < 0n) dy += FP;
      const l = (dy * inv[a]!) % FP;
      let x3 = (l * l - x1 - x2) % FP;
      if (x3 < 0n) x3 += FP;
      let y3 = (l * (x1 - x3) - y1) % FP;
      if (y3 < 0n) y3 += FP;
      X[j] = x3;
      Y[j] = y3;
    }
  }
  for (let j = 0; j < n; j++) {
    if (bad[j] || empty[j]) continue;
    const sig = sigs[idx[j]!]!;
    out[idx[j]!] = X[j] === sig.r && Number(Y[j]! & 1n) === sig.bit;
  }
  return out;
}

/** One signature: `verifyAllAs` of one. */
export function verifiesAs(Q: WindowTable, digest: Uint8Array, signature: string): boolean {
  return verifyAllAs(Q, [{ digest, signature }])[0]!;
}

export class SignerCache {
  readonly #cache = new Map<string, string | null>();
  /**
   * Verdicts by reading object: the evidence loader hands every interval that uses a reading the same object (a
   * month's audit asks about each reading ~26 times), and building the string key above for each ask cost more than
   * the checks' arithmetic. Keyed weakly, so a verdict goes with its reading; the evidence is not changed once loaded.
   */
  readonly #seen = new WeakMap<EvidenceReading, string | null>();
  /**
   * Reading leaf hashes by reading object (check-readings.ts readingsRootOf): kept here, beside the verdicts, for the
   * same scope and on the same rule.
   */
  readonly leafHashes = new WeakMap<EvidenceReading, Uint8Array>();
  /** Registered gateway address (lower-case) → the window table of its public key. */
  readonly #keys = new Map<string, WindowTable>();
  /** How many signatures took the fast path and how many were recovered (tests, benchmark). */
  readonly stats = { fast: 0, recovered: 0 };

  /**
   * The signer of `r` (lower-case address; null when unsigned or malformed). `expected`: the registered gateway, for
   * the fast path.
   */
  async signer(r: EvidenceReading, expected?: string | null): Promise<string | null> {
    return (await this.signers([{ reading: r, expected: expected ?? null }]))[0]!;
  }

  /**
   * The signers of many readings at once (one batch of fast checks per registered gateway); same answers as `signer`
   * one by one.
   */
  async signers(items: readonly { reading: EvidenceReading; expected: string | null }[]): Promise<(string | null)[]> {
    const n = items.length;
    const out: (string | null)[] = new Array<string | null>(n).fill(null);
    let pending: { i: number; key: string; digest: Uint8Array; signature: string; expected: string | null }[] = [];
    const first = new Map<string, number>();
    const again: [number, number][] = [];
    // Only the readings not seen before get a verdict remembered below: the audit asks about each reading object twice
    // per interval that uses it (~16 times), and setting the weak map's entry again on every ask cost more than the
    // look-up.
    const fresh: number[] = [];
    // The same reading object several times in one call (auditEvidence asks for 48 intervals at once, and a reading is
    // in the series of ~8 of them): its string key is built once. Built for every ask (356 700 keys for 48 100
    // readings at 480 × 100), the keys cost ~1.5 s of the in-process audit's ~34 s of CPU.
    const byObject = new Map<EvidenceReading, number>();
    // Indexed loops: iterating entries() with destructuring allocated a pair per item on this path (~1.3 million items
    // per 480 intervals).
    for (let i = 0; i < n; i++) {
      const { reading: r, expected } = items[i]!;
      if (r.signature === null) continue;
      const seen = this.#seen.get(r);
      if (seen !== undefined) {
        out[i] = seen;
        continue;
      }
      const same = byObject.get(r);
      if (same !== undefined) {
        again.push([i, same]);
        continue;
      }
      byObject.set(r, i);
      fresh.push(i);
      const key = `${r.meterId}\u0000${r.ts}\u0000${r.powerW}\u0000${r.importWh}\u0000${r.exportWh}\u0000${r.voltageV}\u0000${r.frequencyHz}\u0000${r.quality}\u0000${r.signature}`;
      const hit = this.#cache.get(key);
      if (hit !== undefined) {
        out[i] = hit;
        continue;
      }
      // The same reading twice in one call (a boundary of two intervals asked together): checked once.
      const f = first.get(key);
      if (f !== undefined) {
        again.push([i, f]);
        continue;
      }
      first.set(key, i);
      let digest: Uint8Array;
      try {
        digest = readingDigest(readingMessage({ ...r, ts: new Date(r.ts).toISOString() }));
      } catch {
        this.#remember(key, null); // values the typed data cannot carry
        continue;
      }
      pending.push({ i, key, digest, signature: r.signature, expected });
    }
    while (pending.length > 0) {
      // Those whose gateway key is known: one batch per key; what it does not show is recovered.
      const later: typeof pending = [];
      const byKey = new Map<string, typeof pending>();
      for (const t of pending) {
        const Q = t.expected ? this.#keys.get(t.expected) : undefined;
        if (Q && t.expected) {
          const batch = byKey.get(t.expected);
          if (batch) batch.push(t);
          else byKey.set(t.expected, [t]);
        } else later.push(t);
      }
      for (const [expected, batch] of byKey) {
        const ok = verifyAllAs(this.#keys.get(expected)!, batch);
        for (const [j, t] of batch.entries()) {
          if (ok[j]) {
            this.stats.fast++;
            out[t.i] = this.#remember(t.key, expected);
          } else out[t.i] = this.#remember(t.key, await this.#recover(t.digest, t.signature, t.expected));
        }
      }
      // Without a key yet: recover one (which learns its gateway's key when it is the registered one), then go round
      // again.
      const one = later.shift();
      if (one) out[one.i] = this.#remember(one.key, await this.#recover(one.digest, one.signature, one.expected));
      pending = later;
    }
    for (const [i, f] of again) out[i] = out[f]!;
    for (const i of fresh) this.#seen.set(items[i]!.reading, out[i] ?? null);
    return out;
  }

  #remember(key: string, signer: string | null): string | null {
    if (this.#cache.size > 400_000) this.#cache.clear();
    this.#cache.set(key, signer);
    return signer;
  }

  /** The slow way: public-key recovery; learns the registered gateway's key the first time it recovers to it. */
  async #recover(digest: Uint8Array, signature: string, expected: string | null): Promise<string | null> {
    this.stats.recovered++;
    try {
      const hash = `0x${Buffer.from(digest).toString('hex')}` as Hex;
      const out = (await recoverAddress({ hash, signature: signature as Hex })).toLowerCase();
      if (expected && out === expected && !this.#keys.has(expected)) {
        this.#keys.set(
          expected,
          new WindowTable(Point.fromHex((await recoverPublicKey({ hash, signature: signature as Hex })).slice(2))),
        );
      }
      return out;
    } catch {
      return null; // malformed signature
    }
  }
}
