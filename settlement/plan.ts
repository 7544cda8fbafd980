import type { Address, Hex } from 'viem';
import type { SettlementCreditsRecord } from '../ledger/statements.js';
import { toUnixSeconds } from '../core/interval.js';
import { buildCreditChunks, type Commitment, type CreditChunk } from './chain/commitment.js';

/**
 * Turns an interval's stored credits into the chain actions: one commitment
 * and N mint chunks. Chunk size comes from the chain's block gas limit, so it
 * is fixed at planning time and written into the journal with the rest: a
 * replay after a crash sends exactly the same chunks.
 */

/** Upper bound of the gas one recipient costs in mintChunk (measured ≈ 25–28k, see the benchmark). */
export const GAS_PER_RECIPIENT = 32_000n;
/** Upper bound of a chunk's fixed cost: base transaction, commitment check, proof, bitmap, totals. */
export const GAS_PER_CHUNK = 150_000n;

export function chunkSizeFor(blockGasLimit: bigint, gasFraction: number): number {
  const budget = (blockGasLimit * BigInt(Math.round(gasFraction * 1000))) / 1000n - GAS_PER_CHUNK;
  const n = Number(budget / GAS_PER_RECIPIENT);
  return Math.max(1, Math.min(n, 2000));
}

export interface IntervalPlan {
  commitment: Commitment;
  chunks: CreditChunk[];
}

export function planInterval(rec: SettlementCreditsRecord, chunkSize: number): IntervalPlan {
  const interval = BigInt(toUnixSeconds(rec.start));
  const { chunks, root } = buildCreditChunks(
    interval,
    rec.credits.map((c) => ({ account: c.account as Address, wh: BigInt(c.wh) })),
    chunkSize,
  );
  return {
    commitment: {
      interval,
      tradesRoot: rec.tradesRoot,
      readingsRoot: rec.readingsRoot,
      creditsRoot: root,
      ruleSet: rec.ruleSet,
      exportWh: BigInt(rec.exportWh),
      matchedWh: BigInt(rec.matchedWh),
      chunks: chunks.length,
    },
    chunks,
  };
}

// Journal payloads are JSON; bigints travel as decimal strings.
export function commitmentToJson(c: Commitment): string {
  return JSON.stringify({
    ...c,
    interval: c.interval.toString(),
    exportWh: c.exportWh.toString(),
    matchedWh: c.matchedWh.toString(),
  });
}

export function commitmentFromJson(s: string): Commitment {
  const o = JSON.parse(s) as Record<string, string | number>;
  return {
    interval: BigInt(o.interval!),
    tradesRoot: o.tradesRoot as Hex,
    readingsRoot: o.readingsRoot as Hex,
    creditsRoot: o.creditsRoot as Hex,
    ruleSet: o.ruleSet as Hex,
    exportWh: BigInt(o.exportWh!),
    matchedWh: BigInt(o.matchedWh!),
    chunks: Number(o.chunks),
  };
}

export interface ChunkPayload {
  commitment: Commitment;
  chunk: number;
  proof: Hex[];
  words: bigint[];
}

export function chunkToJson(c: Commitment, ch: CreditChunk): string {
  return JSON.stringify({
    commitment: JSON.parse(commitmentToJson(c)) as unknown,
    chunk: ch.index,
    proof: ch.proof,
    words: ch.words.map((w) => `0x${w.toString(16)}`),
  });
}

export function chunkFromJson(s: string): ChunkPayload {
  const o = JSON.parse(s) as { commitment: unknown; chunk: number; proof: Hex[]; words: string[] };
  return {
    commitment: commitmentFromJson(JSON.stringify(o.commitment)),
    chunk: o.chunk,
    proof: o.proof,
    words: o.words.map((w) => BigInt(w)),
  };
}
