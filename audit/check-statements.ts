import { canonicalJson, sameCanonicalJson } from '../core/canonical-json.js';
import { Dec } from '../core/units.js';
import { buildStatements, type Statement, type Tariffs } from '../settlement/statements.js';
import type { DeliveredTrade, MeteredEnergy } from '../settlement/delivery.js';
import type { MeterDataSummary } from '../settlement/inputs.js';
import { priceAdjustments } from '../settlement/adjustments.js';
import type { IntervalEvidence } from './evidence.js';
import { exactDecimals, integerStatements, toFixed } from './integer-statements.js';
import { checkResult, type AuditFailure, type CheckResult } from './types.js';

/**
 * Check 5: the statements recomputed from the re-run trades, the re-validated
 * energy (grid settlement on every participant not held, the meter data each
 * used) with the decisions on held data they carry, and the tariffs equal the stored ones, and the stored ones balance
 * to
 * the cent: Σ paid = Σ received, and net = received − paid − fees + grid for each.
 */
export function checkStatements(
  ev: IntervalEvidence,
  delivered: readonly DeliveredTrade[],
  energy: ReadonlyMap<string, MeteredEnergy>,
  meterData: ReadonlyMap<string, MeterDataSummary>,
  tariffs: Tariffs,
): CheckResult {
  const m = tariffs.minorUnits;
  const adjustments = priceAdjustments(ev.adjustments, tariffs).byParticipant;
  const input = { interval: ev.interval, trades: delivered, energy, meterData, adjustments, tariffs };
  // In integers first (integer-statements.ts); with settlement's buildStatements where that declines or anything
  // differs, so that a failure is always what buildStatements gives.
  const integer = integerStatements(input);
  let failures = integer ? compareStatements(ev, integer) : undefined;
  if (!failures || failures.length > 0) failures = compareStatements(ev, buildStatements(input));
  const fail = (record: string, message: string, expected: string, found: string) =>
    failures.push({ interval: ev.interval, check: 'statements', record, message, expected, found });
  const figures = { statements: ev.statements.length, paid: '', received: '', fees: '' };
  const exact = exactDecimals(ev.statements.flatMap((s) => [s.paid, s.received, s.fees, s.gridAmount, s.net]));
  if (exact) {
    // The stored amounts as exact integers (decimal.js for ~500 strings an interval was a fifth of check 5).
    const { scale, values } = exact;
    let paid = 0n;
    let received = 0n;
    let fees = 0n;
    for (let i = 0; i < values.length; i += 5) {
      paid += values[i]!;
      received += values[i + 1]!;
      fees += values[i + 2]!;
    }
    figures.paid = toFixed(paid, scale, m);
    figures.received = toFixed(received, scale, m);
    figures.fees = toFixed(fees, scale, m);
    if (paid !== received)
      fail(
        `interval ${ev.interval} Σ`,
        'statements do not balance: Σ paid ≠ Σ received',
        figures.paid,
        figures.received,
      );
    ev.statements.forEach((s, i) => {
      const [p, r, f, g, n] = values.slice(5 * i, 5 * i + 5) as [bigint, bigint, bigint, bigint, bigint];
      if (r - p - f + g !== n)
        fail(
          `statement of ${s.participant} (net)`,
          'net ≠ received − paid − fees + grid',
          toFixed(r - p - f + g, scale, m),
          s.net,
        );
    });
  } else {
    const sum = (k: 'paid' | 'received' | 'fees') => ev.statements.reduce((a, s) => a.plus(s[k]), new Dec(0));
    const paid = sum('paid');
    const received = sum('received');
    figures.paid = paid.toFixed(m);
    figures.received = received.toFixed(m);
    figures.fees = sum('fees').toFixed(m);
    if (!paid.eq(received))
      fail(
        `interval ${ev.interval} Σ`,
        'statements do not balance: Σ paid ≠ Σ received',
        figures.paid,
        figures.received,
      );
    for (const s of ev.statements) {
      const net = new Dec(s.received).minus(s.paid).minus(s.fees).plus(s.gridAmount);
      if (!net.eq(s.net))
        fail(`statement of ${s.participant} (net)`, 'net ≠ received − paid − fees + grid', net.toFixed(m), s.net);
    }
  }
  return checkResult('statements', figures, failures);
}

/** The recomputed statements against the stored ones: missing, differing (naming the first field) and extra ones. */
function compareStatements(ev: IntervalEvidence, again: readonly Statement[]): AuditFailure[] {
  const failures: AuditFailure[] = [];
  const fail = (record: string, message: string, expected: string, found: string) =>
    failures.push({ interval: ev.interval, check: 'statements', record, message, expected, found });
  const stored = new Map(ev.statements.map((s) => [s.participant, s]));
  for (const s of again) {
    const t = stored.get(s.participant);
    stored.delete(s.participant);
    if (!t)
      fail(
        `statement of ${s.participant}`,
        'statement missing from the ledger',
        canonicalJson(s).slice(0, 160),
        'none',
      );
    else if (!sameCanonicalJson(t, s)) {
      const field =
        (
          [
            'boughtWh',
            'soldWh',
            'gridImportWh',
            'gridExportWh',
            'paid',
            'received',
            'fees',
            'gridAmount',
            'net',
          ] as const
        ).find((k) => String(s[k]) !== String(t[k])) ?? 'detail';
      fail(
        `statement of ${s.participant} (${field})`,
        'stored statement differs from the recomputed one',
        String(field === 'detail' ? canonicalJson(s.detail).slice(0, 160) : s[field]),
        String(field === 'detail' ? canonicalJson(t.detail).slice(0, 160) : t[field]),
      );
    }
  }
  for (const t of stored.values())
    fail(
      `statement of ${t.participant}`,
      'statement in the ledger for a participant the interval does not imply',
      'none',
      t.net,
    );
  return failures;
}
