import { intervalEnergyFromReadings, type IntervalEnergy } from '../../ledger/readings.js';
import type { MeteredEnergy } from '../../settlement/delivery.js';
import type { EvidenceReading, IntervalEvidence } from './evidence.js';
import { checkResult, type AuditFailure, type CheckResult } from './types.js';

/**
 * Recomputes one meter's interval energy from its readings: ledger/readings.ts
 * computeIntervalEnergy on the ledger or on a bundle, or the same computation
 * on the evidence's readings of the meter (`fromEvidenceReadings`).
 */
export type RecomputeEnergy = (meterId: string, start: number, end: number, readings: readonly EvidenceReading[]) => IntervalEnergy;

/**
 * The evidence loader selects a meter's readings exactly as
 * computeIntervalEnergy does (the last at or before the start, those inside,
 * the first at or after the end), so this is that computation without reading
 * the ledger again — and on the very readings check 1 verified.
 */
export const fromEvidenceReadings: RecomputeEnergy = (meterId, start, end, readings) => intervalEnergyFromReadings(meterId, start, end, readings);

export interface EnergyOutcome {
  result: CheckResult;
  /** Recomputed, per grid meter. */
  byMeter: Map<string, IntervalEnergy>;
  /** Recomputed, summed per participant: what settlement must have used. */
  byParticipant: Map<string, MeteredEnergy>;
  /** Participants whose grid meters all have `good` data: only they trade in metered clearing (app/cycle-steps.ts). */
  tradable: Set<string>;
}

/** Check 2: interval energy per meter recomputed from the readings equals the energy the ledger used. */
export function checkEnergy(ev: IntervalEvidence, recompute: RecomputeEnergy): EnergyOutcome {
  const failures: AuditFailure[] = [];
  const byMeter = new Map<string, IntervalEnergy>();
  const byParticipant = new Map<string, MeteredEnergy>();
  const notGood = new Set<string>();
  const owner = new Map(ev.meters.map((m) => [m.id, m.participant]));
  let usedImport = 0;
  let usedExport = 0;
  let importWh = 0;
  let exportWh = 0;
  const readingsOf = new Map<string, EvidenceReading[]>();
  for (const r of ev.readings) {
    const list = readingsOf.get(r.meterId);
    if (list) list.push(r);
    else readingsOf.set(r.meterId, [r]);
  }
  for (const used of ev.energy) {
    const e = recompute(used.meterId, ev.start, ev.start + ev.intervalMs, readingsOf.get(used.meterId) ?? []);
    byMeter.set(used.meterId, e);
    usedImport += used.importWh;
    usedExport += used.exportWh;
    importWh += e.importWh;
    exportWh += e.exportWh;
    const p = owner.get(used.meterId)!;
    const acc = byParticipant.get(p) ?? { importWh: 0, exportWh: 0 };
    byParticipant.set(p, { importWh: acc.importWh + e.importWh, exportWh: acc.exportWh + e.exportWh });
    if (e.quality !== 'good') notGood.add(p);
    if (e.importWh !== used.importWh || e.exportWh !== used.exportWh) {
      failures.push({
        interval: ev.interval,
        check: 'energy',
        record: `meter ${used.meterId} ts ${new Date(e.firstReadingTs ?? ev.start).toISOString()}..${new Date(e.lastReadingTs ?? ev.start + ev.intervalMs).toISOString()}`,
        message: 'interval energy recomputed from the readings differs from what the ledger used',
        expected: `import ${e.importWh} Wh, export ${e.exportWh} Wh (from readings)`,
        found: `import ${used.importWh} Wh, export ${used.exportWh} Wh (ledger)`,
      });
    }
    if (e.quality !== used.quality) {
      failures.push({ interval: ev.interval, check: 'energy', record: `meter ${used.meterId}`, message: 'quality of the recomputed energy differs', expected: e.quality, found: used.quality });
    }
  }
  return {
    result: checkResult('energy', { meters: ev.energy.length, recomputedImportWh: importWh, recomputedExportWh: exportWh, ledgerImportWh: usedImport, ledgerExportWh: usedExport }, failures),
    byMeter,
    byParticipant,
    tradable: new Set([...byParticipant.keys()].filter((p) => !notGood.has(p))),
  };
}
