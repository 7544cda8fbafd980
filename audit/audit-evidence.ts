import type { Tariffs } from '../settlement/statements.js';
import type { Credit } from '../settlement/credits.js';
import type { DeliveredTrade, MeteredEnergy } from '../settlement/delivery.js';
import type { ChainInterval, ChainReader } from './chain.js';
import type { IntervalEvidence } from './evidence.js';
import { SignerCache } from './signatures.js';
import { checkEnergy } from './check-energy.js';
import { checkReadings, signatureItems } from './check-readings.js';
import { checkClearing } from './check-clearing.js';
import { checkCredits, expectedCredits, mintedOnChain } from './check-credits.js';
import { checkStatements } from './check-statements.js';
import { CHECKS, type IntervalAudit } from './types.js';

/** MGX_AUDIT_PROFILE=1 prints where the time goes (benchmarking). */
export const PROFILE = !!process.env.MGX_AUDIT_PROFILE;

interface Pending {
  ev: IntervalEvidence;
  chain: ChainInterval | undefined;
  partial: IntervalAudit;
  delivered: DeliveredTrade[];
  energy: Map<string, MeteredEnergy>;
  credits: Credit[];
  creditsError: string | null;
}

/**
 * The five checks over evidences (from the ledger or a bundle) against the chain views; shared by `mgx audit` and `mgx
 * audit verify`.
 */
export async function auditEvidence(
  evidences: Iterable<IntervalEvidence>,
  count: number,
  chainViews: ReadonlyMap<number, ChainInterval>,
  reader: ChainReader,
  tariffs: Tariffs,
  onProgress?: (done: number, total: number) => void,
  signers = new SignerCache(),
): Promise<IntervalAudit[]> {
  const pending: Pending[] = [];
  let done = 0;
  const t = PROFILE ? new Map<string, number>() : undefined;
  const lap = (name: string, since: number): number => {
    const now = performance.now();
    t?.set(name, (t.get(name) ?? 0) + now - since);
    return now;
  };
  let at = performance.now();
  const iter = evidences[Symbol.iterator]();
  // Evidences are taken 48 at a time and their signatures checked in one
  // batch first (check 1 then finds them in the cache): a batch shares one
  // inversion per window row, so larger batches spend less on inversions.
  const ahead: IntervalEvidence[] = [];
  /** The batch's signers, and where each evidence's start in it (signatureItems gives one item per reading). */
  let signed: (string | null)[] = [];
  const offsets: number[] = [];
  let taken = 0;
  for (;;) {
    if (taken === ahead.length) {
      ahead.length = taken = 0;
      while (ahead.length < 48) {
        const next = iter.next();
        if (next.done) break;
        ahead.push(next.value);
      }
      if (ahead.length === 0) break;
      at = lap('load', at);
      offsets.length = 0;
      let n = 0;
      for (const ev of ahead) {
        offsets.push(n);
        n += ev.readings.length;
      }
      signed = await signers.signers(ahead.flatMap(signatureItems));
      at = lap('readings', at);
    }
    const o = offsets[taken]!;
    const ev = ahead[taken++]!;
    const chain = chainViews.get(Math.floor(ev.start / 1000));
    const energy = checkEnergy(ev);
    at = lap('energy', at);
    const readings = await checkReadings(ev, chain, energy.byMeter, signers, signed.slice(o, o + ev.readings.length));
    at = lap('readings', at);
    const clearing = checkClearing(ev, chain, energy.actual, energy.tradable);
    at = lap('clearing', at);
    const statements = checkStatements(ev, clearing.delivered, energy.grid, energy.meterData, tariffs);
    at = lap('statements', at);
    const { credits, error } = expectedCredits(ev, clearing.delivered, energy.actual);
    at = lap('credits', at);
    pending.push({
      ev,
      chain,
      partial: {
        interval: ev.interval,
        tokenId: Math.floor(ev.start / 1000),
        pass: false,
        checks: [readings, energy.result, clearing.result, statements],
      },
      delivered: clearing.delivered,
      energy: energy.actual,
      credits,
      creditsError: error,
    });
    onProgress?.(++done, count);
  }
  const pairs = pending.flatMap((p) => {
    const accounts = new Set([...p.credits.map((c) => c.account.toLowerCase()), ...mintedOnChain(p.chain).keys()]);
    return [...accounts].map((account) => ({ account, id: Math.floor(p.ev.start / 1000) }));
  });
  const balances = await reader.balances(pairs);
  at = lap('balances', at);
  const out: IntervalAudit[] = [];
  for (const p of pending) {
    const credits = await checkCredits(p.ev, p.chain, p.energy, {
      credits: p.credits,
      creditsError: p.creditsError,
      balances,
      transfers: (a, id) => reader.transfersOf(a, id),
    });
    const checks = [...p.partial.checks, credits].sort((a, b) => CHECKS.indexOf(a.check) - CHECKS.indexOf(b.check));
    out.push({ ...p.partial, checks, pass: checks.every((c) => c.pass) });
  }
  lap('check credits', at);
  if (t) process.stderr.write(`audit phases (ms): ${[...t].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}\n`);
  return out;
}
