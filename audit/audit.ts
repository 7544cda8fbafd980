import { availableParallelism } from 'node:os';
import type { Ledger } from '../ledger/ledger.js';
import { toIso } from '../core/interval.js';
import type { Tariffs } from '../settlement/statements.js';
import { ChainReader, type ChainInterval } from './chain.js';
import { EvidenceLoader, type EvidenceMeterDataRules, type IntervalEvidence } from './evidence.js';
import { auditEvidence, PROFILE } from './audit-evidence.js';
import { mintedOnChain } from './check-credits.js';
import { startWorkers } from './worker-pool.js';
import { checkResult, type AuditReport, type CheckName, type IntervalAudit } from './types.js';

export interface AuditRange {
  /** Epoch ms, inclusive; interval starts. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
}

export interface AuditOptions extends AuditRange {
  ledger: Ledger;
  rpcUrl: string;
  contract: string;
  intervalMs: number;
  tariffs: Tariffs;
  fromBlock?: bigint;
  blockRange?: bigint;
  onProgress?: (done: number, total: number) => void;
  /** The window and gap the metering step validated with (meterDataRulesOf(config)); default: the rules' defaults. */
  meterData?: EvidenceMeterDataRules;
  /** Worker threads sharing the intervals (default: 2 on a multi-core machine for ≥ 200 intervals, else in-process). */
  workers?: number;
}

/** Credits on chain for an interval the ledger never settled: every check fails, naming each recipient. */
function chainOnly(chain: ChainInterval): IntervalAudit {
  const interval = toIso(chain.tokenId * 1000);
  const missing = (check: CheckName) =>
    checkResult(check, {}, [
      {
        interval,
        check,
        record: `interval ${chain.tokenId}`,
        message: 'committed on chain, but the ledger holds no settlement for it',
        expected: 'a settled interval in the ledger',
        found: 'none',
      },
    ]);
  const credits = checkResult(
    'credits',
    { mintedWh: [...mintedOnChain(chain).values()].reduce((s, x) => s + x, 0n).toString(), expectedCreditsWh: 0 },
    [...mintedOnChain(chain)].map(([account, wh]) => ({
      interval,
      check: 'credits' as const,
      record: `recipient ${account}`,
      message: 'credits minted on chain without metered energy in the ledger',
      expected: '0 Wh',
      found: `${wh} Wh`,
    })),
  );
  if (credits.failures.length === 0)
    credits.failures.push({
      interval,
      check: 'credits',
      record: `interval ${chain.tokenId}`,
      message: 'committed on chain, but the ledger holds no settlement for it',
      expected: 'none',
      found: 'Committed',
    });
  credits.pass = false;
  return {
    interval,
    tokenId: chain.tokenId,
    pass: false,
    checks: [missing('readings'), missing('energy'), missing('clearing'), credits, missing('statements')],
  };
}

/**
 * `mgx audit`: every interval in [from, to) the ledger settled or the chain committed, checked against the chain
 * through its RPC.
 */
export async function runAudit(o: AuditOptions): Promise<AuditReport> {
  const t0 = performance.now();
  const loader = new EvidenceLoader(o.ledger, o.intervalMs, o.meterData);
  const starts = loader.settledStarts(o.from, o.to);
  const settled = new Set(starts.map((s) => Math.floor(s / 1000)));
  const n =
    o.workers ?? (starts.length >= 200 && o.ledger.path !== ':memory:' ? Math.min(2, availableParallelism()) : 1);
  const pool =
    n > 1
      ? startWorkers(
          {
            ledgerPath: o.ledger.path,
            rpcUrl: o.rpcUrl,
            contract: o.contract,
            intervalMs: o.intervalMs,
            tariffs: o.tariffs,
            ...(o.meterData ? { meterData: o.meterData } : {}),
          },
          n,
          o.onProgress,
        )
      : undefined;
  let audited: IntervalAudit[];
  let reader: ChainReader;
  let chainId: number;
  let views: Map<number, ChainInterval>;
  try {
    reader = new ChainReader({
      rpcUrl: o.rpcUrl,
      contract: o.contract,
      ...(o.fromBlock !== undefined ? { fromBlock: o.fromBlock } : {}),
      ...(o.blockRange !== undefined ? { blockRange: o.blockRange } : {}),
    });
    chainId = await reader.chainId();
    await reader.assertContract();
    const tc = performance.now();
    views = await reader.readIntervals(Math.floor(o.from / 1000), Math.ceil(o.to / 1000));
    if (PROFILE) process.stderr.write(`audit chain events and calldata: ${(performance.now() - tc).toFixed(0)} ms\n`);
    function* evidences(): Generator<IntervalEvidence> {
      for (let i = 0; i < starts.length; i++) yield loader.load(starts[i]!, starts.length - 1 - i);
    }
    audited = pool
      ? await pool.audit(starts, views)
      : await auditEvidence(evidences(), starts.length, views, reader, o.tariffs, o.onProgress);
  } finally {
    await pool?.stop();
  }
  for (const v of views.values()) if (!settled.has(v.tokenId)) audited.push(chainOnly(v));
  audited.sort((a, b) => a.tokenId - b.tokenId);
  const seconds = (performance.now() - t0) / 1000;
  const passed = audited.filter((i) => i.pass).length;
  return {
    from: toIso(o.from),
    to: toIso(o.to),
    contract: reader.contract,
    chainId,
    intervals: audited,
    pass: passed === audited.length,
    passed,
    failed: audited.length - passed,
    seconds,
    intervalsPerSecond: audited.length / Math.max(seconds, 1e-9),
  };
}
