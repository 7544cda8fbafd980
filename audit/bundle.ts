import { readFileSync, writeFileSync } from 'node:fs';
import type { Hex } from 'viem';
import type { Ledger } from '../ledger/ledger.js';
import { MicrogridError } from '../core/errors.js';
import { toIso } from '../core/interval.js';
import type { Tariffs } from '../settlement/statements.js';
import { readingLeaf, tradeLeaf } from '../settlement/inputs.js';
import { merkleProof } from '../settlement/merkle.js';
import { buildCreditChunks } from '../settlement/chain/commitment.js';
import { ChainReader, type ChainInterval } from './chain.js';
import { EvidenceLoader, type EvidenceMeterDataRules, type IntervalEvidence } from './evidence.js';
import { auditEvidence } from './audit-evidence.js';
import { checkEnergy } from './check-energy.js';
import { checkClearing } from './check-clearing.js';
import { expectedCredits } from './check-credits.js';
import { readingLeaves } from './check-readings.js';
import type { AuditReport } from './types.js';

/**
 * Evidence bundle of one interval (`mgx audit export`): the evidence the
 * audit reads from the ledger (signed readings with when each was received,
 * registered gateways, interval energy with the metering step's receipt
 * cut-off, orders, stored clearing results with their rule sets, accounts,
 * statements), the tariffs, the commitment and transaction hashes, and the
 * Merkle proofs of every reading, trade and credit chunk against the
 * committed roots. `mgx audit verify` runs the same five checks on it with
 * nothing but the chain's RPC.
 */

/**
 * /2: readings carry receivedAt and energies receivedBy (the metering cut-off); a /1 bundle lacks what check 2 needs.
 */
export const BUNDLE_FORMAT = 'mgx-audit-bundle/2';

export interface Bundle {
  format: typeof BUNDLE_FORMAT;
  createdAt: string;
  chainId: number;
  contract: string;
  interval: string;
  tokenId: number;
  tariffs: Tariffs;
  evidence: IntervalEvidence;
  commitment: Record<string, string | number> | null;
  transactions: { commit: string | null; chunks: { chunk: number; txHash: string }[] };
  proofs: {
    readings: { meterId: string; ts: number; leaf: string; proof: string[] }[];
    trades: { kind: string; seq: number; leaf: string; proof: string[] }[];
    credits: { chunk: number; leaf: string; proof: string[]; words: string[] }[];
  };
}

const json = (x: unknown): string =>
  JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);

export function commitmentJson(view: ChainInterval | undefined): Record<string, string | number> | null {
  const c = view?.commitments[0]?.commitment;
  return c
    ? { ...c, interval: c.interval.toString(), exportWh: c.exportWh.toString(), matchedWh: c.matchedWh.toString() }
    : null;
}

export async function exportBundle(o: {
  ledger: Ledger;
  rpcUrl: string;
  contract: string;
  start: number;
  intervalMs: number;
  tariffs: Tariffs;
  out: string;
  fromBlock?: bigint;
  meterData?: EvidenceMeterDataRules;
}) {
  const reader = new ChainReader({
    rpcUrl: o.rpcUrl,
    contract: o.contract,
    ...(o.fromBlock !== undefined ? { fromBlock: o.fromBlock } : {}),
  });
  const chainId = await reader.chainId();
  await reader.assertContract();
  const tokenId = Math.floor(o.start / 1000);
  const loader = new EvidenceLoader(o.ledger, o.intervalMs, o.meterData);
  if (loader.settledStarts(o.start, o.start + 1).length === 0)
    throw new MicrogridError('AUDIT_INPUT', 'the ledger holds no settlement for this interval', {
      field: '--interval',
      value: toIso(o.start),
      expected: 'a settled interval',
    });
  const ev = loader.load(o.start);
  const view = (await reader.readIntervals(tokenId, tokenId + 1)).get(tokenId);
  const energy = checkEnergy(ev);
  const leaves = readingLeaves(ev, energy.byMeter);
  const rLeaves = leaves.map(readingLeaf);
  const delivered = checkClearing(ev, view, energy.actual, energy.tradable).delivered;
  const tLeaves = delivered.map(tradeLeaf);
  const { credits } = expectedCredits(ev, delivered, energy.actual);
  const chunks = view?.chunks ?? [];
  const size = chunks.length > 1 ? chunks[0]!.recipients : Math.max(1, credits.length);
  const built = buildCreditChunks(
    BigInt(tokenId),
    credits.map((c) => ({ account: c.account, wh: BigInt(c.wh) })),
    size,
  );
  const bundle: Bundle = {
    format: BUNDLE_FORMAT,
    createdAt: new Date().toISOString(),
    chainId,
    contract: reader.contract,
    interval: ev.interval,
    tokenId,
    tariffs: o.tariffs,
    evidence: ev,
    commitment: commitmentJson(view),
    transactions: {
      commit: view?.commitments[0]?.txHash ?? null,
      chunks: chunks.map((c) => ({ chunk: c.chunk, txHash: c.txHash })),
    },
    proofs: {
      readings: leaves.map((r, i) => ({
        meterId: r.meterId,
        ts: r.ts,
        leaf: rLeaves[i]!,
        proof: merkleProof(rLeaves, i),
      })),
      trades: delivered.map((t, i) => ({
        kind: t.kind,
        seq: t.seq,
        leaf: tLeaves[i]!,
        proof: merkleProof(tLeaves, i),
      })),
      credits: built.chunks.map((c) => ({
        chunk: c.index,
        leaf: c.leaf,
        proof: c.proof,
        words: c.words.map((w) => `0x${w.toString(16)}`),
      })),
    },
  };
  writeFileSync(o.out, json(bundle) + '\n');
  return {
    path: o.out,
    readings: ev.readings.length,
    orders: ev.orders.length,
    trades: delivered.length,
    credits: credits.length,
    transactions: bundle.transactions.chunks.length + (bundle.transactions.commit ? 1 : 0),
  };
}

function need(cond: boolean, field: string, value: unknown, expected: string): asserts cond {
  if (!cond) throw new MicrogridError('AUDIT_BUNDLE', 'not an evidence bundle', { field, value, expected });
}

/** Parses and shape-checks a bundle file. */
export function readBundle(file: string): Bundle {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new MicrogridError('AUDIT_BUNDLE', 'cannot read the bundle file', {
      field: 'BUNDLE',
      value: file,
      expected: 'a file written by mgx audit export',
      cause,
    });
  }
  let b: Bundle;
  try {
    b = JSON.parse(text) as Bundle;
  } catch (cause) {
    throw new MicrogridError('AUDIT_BUNDLE', 'the bundle is not JSON', {
      field: 'BUNDLE',
      value: file,
      expected: 'a JSON file written by mgx audit export',
      cause,
    });
  }
  need(typeof b === 'object' && b !== null, 'BUNDLE', file, 'a JSON object');
  need(b.format === BUNDLE_FORMAT, 'format', b.format, BUNDLE_FORMAT);
  need(typeof b.contract === 'string', 'contract', b.contract, 'the EnergyCredits address');
  need(
    typeof b.tariffs === 'object' && b.tariffs !== null,
    'tariffs',
    b.tariffs,
    '{ feedInTariff, retailTariff, minorUnits }',
  );
  const e = b.evidence;
  need(typeof e === 'object' && e !== null, 'evidence', e, 'the interval evidence');
  need(
    Number.isSafeInteger(e.start) && Number.isSafeInteger(e.intervalMs),
    'evidence.start',
    e.start,
    'epoch ms and intervalMs',
  );
  for (const k of ['meters', 'readings', 'energy', 'orders', 'results', 'trades', 'statements', 'adjustments'] as const)
    need(Array.isArray(e[k]), `evidence.${k}`, e[k], 'an array');
  need(typeof e.accounts === 'object' && e.accounts !== null, 'evidence.accounts', e.accounts, 'participant → account');
  for (const [i, r] of e.readings.entries())
    need(
      Number.isSafeInteger(r.receivedAt),
      `evidence.readings[${i}].receivedAt`,
      r.receivedAt,
      'epoch ms the ledger received the reading',
    );
  for (const [i, x] of e.energy.entries())
    need(
      x.receivedBy === null || Number.isSafeInteger(x.receivedBy),
      `evidence.energy[${i}].receivedBy`,
      x.receivedBy,
      'the metering cut-off, epoch ms, or null',
    );
  need(
    typeof e.meterData === 'object' &&
      e.meterData !== null &&
      Number.isSafeInteger(e.meterData.lookMs) &&
      Number.isSafeInteger(e.meterData.maxGapMs),
    'evidence.meterData',
    e.meterData,
    '{ lookMs, maxGapMs }',
  );
  return b;
}

/**
 * `mgx audit verify BUNDLE --rpc URL`: the five checks on the bundle against the chain; also that the bundle's
 * transactions are the chain's.
 */
export async function verifyBundle(file: string, o: { rpcUrl: string; fromBlock?: bigint }): Promise<AuditReport> {
  const t0 = performance.now();
  const b = readBundle(file);
  const reader = new ChainReader({
    rpcUrl: o.rpcUrl,
    contract: b.contract,
    ...(o.fromBlock !== undefined ? { fromBlock: o.fromBlock } : {}),
  });
  const chainId = await reader.chainId();
  await reader.assertContract();
  const tokenId = Math.floor(b.evidence.start / 1000);
  const views = await reader.readIntervals(tokenId, tokenId + 1);
  {
    // Check 2 is pure (the published rules on the bundle's signed readings): nothing to load.
    const [audited] = await auditEvidence([b.evidence], 1, views, reader, b.tariffs);
    const a = audited!;
    const view = views.get(tokenId);
    const credits = a.checks.find((c) => c.check === 'credits')!;
    const onChain = new Set((view?.chunks ?? []).map((c) => c.txHash.toLowerCase()));
    const commitTx = view?.commitments[0]?.txHash ?? null;
    if ((b.transactions.commit ?? null)?.toLowerCase() !== commitTx?.toLowerCase())
      credits.failures.push({
        interval: a.interval,
        check: 'credits',
        record: `commit tx ${b.transactions.commit}`,
        message: "the bundle's commit transaction is not the chain's",
        expected: commitTx ?? 'none',
        found: b.transactions.commit ?? 'none',
      });
    for (const t of b.transactions.chunks)
      if (!onChain.has(t.txHash.toLowerCase()))
        credits.failures.push({
          interval: a.interval,
          check: 'credits',
          record: `chunk ${t.chunk} tx ${t.txHash}`,
          message: "the bundle's mint transaction is not on chain for this interval",
          expected: [...onChain].join(' '),
          found: t.txHash,
        });
    credits.pass = credits.failures.length === 0;
    a.pass = a.checks.every((c) => c.pass);
    const seconds = (performance.now() - t0) / 1000;
    return {
      from: a.interval,
      to: toIso(b.evidence.start + b.evidence.intervalMs),
      contract: reader.contract,
      chainId,
      intervals: [a],
      pass: a.pass,
      passed: a.pass ? 1 : 0,
      failed: a.pass ? 0 : 1,
      seconds,
      intervalsPerSecond: 1 / Math.max(seconds, 1e-9),
    };
  }
}

export type { Hex };
