import { canonicalJson, sameCanonicalJson } from '../core/canonical-json.js';
import { Dec } from '../core/units.js';
import { buildStatements, type Tariffs } from '../settlement/statements.js';
import type { DeliveredTrade, MeteredEnergy } from '../settlement/delivery.js';
import type { MeterDataSummary } from '../settlement/inputs.js';
import { priceAdjustments } from '../settlement/adjustments.js';
import type { IntervalEvidence } from './evidence.js';
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
  const failures: AuditFailure[] = [];
  const fail = (record: string, message: string, expected: string, found: string) =>
    failures.push({ interval: ev.interval, check: 'statements', record, message, expected, found });
  const adjustments = priceAdjustments(ev.adjustments, tariffs).byParticipant;
  const again = buildStatements({ interval: ev.interval, trades: delivered, energy, meterData, adjustments, tariffs });
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
  const sum = (k: 'paid' | 'received' | 'fees') => ev.statements.reduce((a, s) => a.plus(s[k]), new Dec(0));
  const paid = sum('paid');
  const received = sum('received');
  if (!paid.eq(received))
    fail(
      `interval ${ev.interval} Σ`,
      'statements do not balance: Σ paid ≠ Σ received',
      paid.toFixed(tariffs.minorUnits),
      received.toFixed(tariffs.minorUnits),
    );
  for (const s of ev.statements) {
    const net = new Dec(s.received).minus(s.paid).minus(s.fees).plus(s.gridAmount);
    if (!net.eq(s.net))
      fail(
        `statement of ${s.participant} (net)`,
        'net ≠ received − paid − fees + grid',
        net.toFixed(tariffs.minorUnits),
        s.net,
      );
  }
  return checkResult(
    'statements',
    {
      statements: ev.statements.length,
      paid: paid.toFixed(tariffs.minorUnits),
      received: received.toFixed(tariffs.minorUnits),
      fees: sum('fees').toFixed(tariffs.minorUnits),
    },
    failures,
  );
}
