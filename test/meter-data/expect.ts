import assert from 'node:assert/strict';
import type { Scenario } from './scenario.js';
import { at, INTERVAL, T0 } from './household.js';
import { meterDataRulesOf } from '../../audit/meter-data-window.js';
import { validateMeterSeries, type MeterIntervalEnergy } from '../../settlement/meter-data/index.js';

/** A stored reading as [minute after T0, importWh, exportWh, powerW]. */
export type Row = [number, number | null, number | null, number | null];

/**
 * The readings the bridge recorded for `meterId` between two minutes
 * (inclusive), as rows; each one's signature must recover to the bridge's
 * gateway key, i.e. the ledger holds exactly what the bridge read and signed.
 */
export async function signedRows(sc: Scenario, meterId: string, from: number, to: number): Promise<Row[]> {
  const rs = sc.readings(meterId, at(from), at(to) + 1);
  for (const r of rs) {
    assert.ok(r.signature, `reading ${meterId} ${new Date(r.ts).toISOString()} is signed`);
    assert.equal(
      (await sc.signerOf(r)).toLowerCase(),
      sc.running.gateway.toLowerCase(),
      `reading ${meterId} ${new Date(r.ts).toISOString()} signed by the gateway`,
    );
  }
  return rs.map((r) => [(r.ts - T0) / 60_000, r.importWh, r.exportWh, r.powerW]);
}

/** Rows for minutes from..to where `f(k)` gives [importWh, exportWh, powerW] (or null: no reading that minute). */
export function rows(
  from: number,
  to: number,
  f: (k: number) => [number | null, number | null, number | null] | null,
): Row[] {
  const out: Row[] = [];
  for (let k = from; k <= to; k++) {
    const v = f(k);
    if (v) out.push([k, ...v]);
  }
  return out;
}

/** An interval energy as [minute of its start, importWh, exportWh, status, method, reason codes]. */
export type EnergyRow = [number, number, number, MeterIntervalEnergy['status'], string | null, string[]];

/**
 * The published meter-data rules (validateMeterSeries, the function the
 * ledger's metering step and the audit both call) on the readings the bridge
 * signed for `meterId`, for the first `n` intervals from T0.
 */
export function vee(sc: Scenario, meterId: string, role: 'grid' | 'pv', ratedPowerW: number, n: number): EnergyRow[] {
  const readings = sc.readings(meterId, T0 - INTERVAL, T0 + (n + 1) * INTERVAL);
  const intervals = Array.from({ length: n }, (_, i) => T0 + i * INTERVAL);
  // The gap the metering step uses for this config (a poll per minute of market time: 150 s).
  const rules = { maxGapMs: meterDataRulesOf(sc.config).maxGapMs };
  return validateMeterSeries({ meterId, role, ratedPowerW, intervalMs: INTERVAL, intervals, readings, rules }).map(
    (e) => [(e.intervalStart - T0) / 60_000, e.importWh, e.exportWh, e.status, e.method, e.reasons.map((r) => r.code)],
  );
}
