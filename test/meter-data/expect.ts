import assert from 'node:assert/strict';
import type { Scenario } from './scenario.js';
import { at, T0 } from './household.js';

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
    assert.equal((await sc.signerOf(r)).toLowerCase(), sc.running.gateway.toLowerCase(), `reading ${meterId} ${new Date(r.ts).toISOString()} signed by the gateway`);
  }
  return rs.map((r) => [(r.ts - T0) / 60_000, r.importWh, r.exportWh, r.powerW]);
}

/** Rows for minutes from..to where `f(k)` gives [importWh, exportWh, powerW] (or null: no reading that minute). */
export function rows(from: number, to: number, f: (k: number) => [number | null, number | null, number | null] | null): Row[] {
  const out: Row[] = [];
  for (let k = from; k <= to; k++) {
    const v = f(k);
    if (v) out.push([k, ...v]);
  }
  return out;
}
