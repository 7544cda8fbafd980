/**
 * The audit report: one entry per interval, five checks each (docs/audit.md,
 * "Audit"). Every check says pass or fail with the numbers it compared, and
 * every failure names the interval, the check and the record.
 */

export const CHECKS = ['readings', 'energy', 'clearing', 'credits', 'statements'] as const;
export type CheckName = (typeof CHECKS)[number];

/** One discrepancy: the record it is about (meter id + ts, trade seq, order id, recipient address, …). */
export interface AuditFailure {
  interval: string;
  check: CheckName;
  record: string;
  message: string;
  expected?: string;
  found?: string;
}

export interface CheckResult {
  check: CheckName;
  pass: boolean;
  /** The figures compared, e.g. { readings: 200, signed: 200, root: '0x…', committedRoot: '0x…' }. */
  figures: Record<string, string | number>;
  failures: AuditFailure[];
}

export interface IntervalAudit {
  interval: string;
  /** Unix seconds: the token id on chain. */
  tokenId: number;
  pass: boolean;
  checks: CheckResult[];
}

export interface AuditReport {
  from: string;
  to: string;
  contract: string;
  chainId: number;
  intervals: IntervalAudit[];
  pass: boolean;
  passed: number;
  failed: number;
  seconds: number;
  intervalsPerSecond: number;
}

export function checkResult(check: CheckName, figures: CheckResult['figures'], failures: AuditFailure[]): CheckResult {
  return { check, pass: failures.length === 0, figures, failures };
}
