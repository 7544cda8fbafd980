import type { Hex } from 'viem';
import type { ReadingLeaf } from '../settlement/inputs.js';
import { canonicalJson } from '../core/canonical-json.js';
import { keccakBytes } from './keccak.js';
import { merkleRootOfBytes } from '../settlement/merkle.js';
import type { EvidenceReading, IntervalEvidence } from './evidence.js';
import type { ChainInterval } from './chain.js';
import type { SignerCache } from './signatures.js';
import { checkResult, type AuditFailure, type CheckResult } from './types.js';

/** The readings an interval's energy runs between (check-energy.ts RecomputedEnergy). */
export interface Boundaries {
  firstReadingTs: number | null;
  lastReadingTs: number | null;
}

/**
 * The readings behind the committed reading leaves: each grid meter's readings at the first and last ts its energy
 * computation used, sorted by meter and ts (the evidence's own objects).
 */
export function boundaryReadings(ev: IntervalEvidence, byMeter: ReadonlyMap<string, Boundaries>): EvidenceReading[] {
  // Only the boundary readings are looked up: a key string for each of the interval's ~800 readings cost more than the
  // rest of check 1 once its signatures are known. The last reading with a meter's ts wins, as in a map of them all.
  const wanted = new Map<string, { first: number | null; last: number | null; found: Map<number, EvidenceReading> }>();
  for (const [meterId, e] of byMeter)
    wanted.set(meterId, { first: e.firstReadingTs, last: e.lastReadingTs, found: new Map() });
  for (const r of ev.readings) {
    const w = wanted.get(r.meterId);
    if (w && (r.ts === w.first || r.ts === w.last)) w.found.set(r.ts, r);
  }
  const out: EvidenceReading[] = [];
  for (const [meterId, e] of byMeter) {
    const found = wanted.get(meterId)!.found;
    const first = e.firstReadingTs === null ? undefined : found.get(e.firstReadingTs);
    if (first) out.push(first);
    const last =
      e.lastReadingTs === null || e.lastReadingTs === e.firstReadingTs ? undefined : found.get(e.lastReadingTs);
    if (last) out.push(last);
  }
  return out.sort((a, b) => (a.meterId < b.meterId ? -1 : a.meterId > b.meterId ? 1 : a.ts - b.ts));
}

/** The committed reading leaves (boundaryReadings as leaves). */
export function readingLeaves(ev: IntervalEvidence, byMeter: ReadonlyMap<string, Boundaries>): ReadingLeaf[] {
  return boundaryReadings(ev, byMeter).map((r) => ({
    meterId: r.meterId,
    ts: r.ts,
    importWh: r.importWh,
    exportWh: r.exportWh,
    signature: r.signature,
  }));
}

/** settlement/inputs.ts readingLeaf with the faster keccak, as bytes for the tree (a test checks the roots agree). */
function leafHash(l: ReadingLeaf): Uint8Array {
  return keccakBytes(
    Buffer.from(
      canonicalJson({
        meterId: l.meterId,
        ts: l.ts,
        importWh: l.importWh,
        exportWh: l.exportWh,
        signature: l.signature,
      }),
      'utf8',
    ),
  );
}

/**
 * settlement/inputs.ts readingsRoot. A boundary reading is a leaf of two intervals' roots (the end of one, the start of
 * the next): `kept` holds leaf hashes by leaf object for the next interval. The audit passes the evidence's reading
 * objects themselves (the loader hands every interval that uses a reading the same object) and its signer cache's map
 * (SignerCache.leafHashes: the same scope and the same rule, evidence is not changed once loaded); a string key of the
 * leaf's fields for each of the ~96 000 leaves per 480 intervals cost more than the hashes it saved.
 */
export function readingsRootOf(
  leaves: readonly ReadingLeaf[],
  kept: WeakMap<ReadingLeaf, Uint8Array> = new WeakMap(),
): Hex {
  return merkleRootOfBytes(
    leaves.map((l) => {
      let h = kept.get(l);
      if (h === undefined) kept.set(l, (h = leafHash(l)));
      return h;
    }),
    keccakBytes,
  );
}

/**
 * What check 1 asks the signer cache about an interval's readings (auditEvidence asks it for many intervals at once
 * first).
 */
export function signatureItems(ev: IntervalEvidence): { reading: EvidenceReading; expected: string | null }[] {
  const gateway = new Map(ev.meters.map((m) => [m.id, m.gateway?.toLowerCase() ?? null]));
  // A meter without a registered gateway fails whoever signed: its readings are not checked (as unsigned).
  return ev.readings.map((r) => {
    const expected = gateway.get(r.meterId);
    return expected ? { reading: r, expected } : { reading: { ...r, signature: null }, expected: null };
  });
}

/**
 * Check 1: every reading the meter-data validation used (each grid meter's series) recovers (EIP-712) to the
 * gateway registered for its meter, and the Merkle root of the boundary
 * readings equals the readingsRoot committed on chain.
 */
export async function checkReadings(
  ev: IntervalEvidence,
  chain: ChainInterval | undefined,
  byMeter: ReadonlyMap<string, Boundaries>,
  signers: SignerCache,
  /**
   * The signers of ev.readings, in order, when the caller has them (auditEvidence asks the cache for 48 intervals at
   * once: asking again per interval went over ~1 600 readings a second time for answers already in hand).
   */
  known?: readonly (string | null)[],
): Promise<CheckResult> {
  const failures: AuditFailure[] = [];
  const gateway = new Map(ev.meters.map((m) => [m.id, m.gateway?.toLowerCase() ?? null]));
  let valid = 0;
  const signed = known ?? (await signers.signers(signatureItems(ev)));
  // The record's name is built only for a failure: ~800 readings per interval pass (480 × 100), and a Date string for each cost
  // more than the check of a signature already verified.
  const recordOf = (r: EvidenceReading) => `meter ${r.meterId} ts ${new Date(r.ts).toISOString()}`;
  for (let i = 0; i < ev.readings.length; i++) {
    const r = ev.readings[i]!;
    const registered = gateway.get(r.meterId) ?? null;
    if (registered === null) {
      failures.push({
        interval: ev.interval,
        check: 'readings',
        record: recordOf(r),
        message: 'no gateway registered for the meter',
        expected: 'meters.gateway set',
        found: 'null',
      });
      continue;
    }
    const signer = signed[i] ?? null;
    if (signer === registered) valid++;
    else
      failures.push({
        interval: ev.interval,
        check: 'readings',
        record: recordOf(r),
        message:
          r.signature === null ? 'reading is not signed' : 'signature does not recover to the registered gateway',
        expected: registered,
        found: signer ?? 'no signer (malformed signature)',
      });
  }
  // The evidence's reading objects as leaves: their hashes are kept by object (readingsRootOf).
  const root = readingsRootOf(boundaryReadings(ev, byMeter), signers.leafHashes);
  // No commitment at all is reported by the credits check (an interval without export has none).
  const committed = chain?.commitments[0]?.commitment.readingsRoot ?? 'none';
  if (committed !== 'none' && root.toLowerCase() !== committed.toLowerCase()) {
    failures.push({
      interval: ev.interval,
      check: 'readings',
      record: `readingsRoot of ${chain?.tokenId ?? 'interval'}`,
      message: 'Merkle root of the signed readings differs from the root committed on chain',
      expected: committed,
      found: root,
    });
  }
  return checkResult(
    'readings',
    { readings: ev.readings.length, validSignatures: valid, readingsRoot: root, committedRoot: committed },
    failures,
  );
}
