import type { Ledger } from './ledger.js';

/**
 * The receipt cut-off of a metering step: the step validates an interval on
 * the readings with `received_at <= cutoff` and records the cut-off on every
 * interval energy it writes (`interval_energy.received_by`); the audit reads
 * the same readings by the same rule. Two stamps make the cut-off exact
 * rather than inferred from clocks:
 *   - a cut-off is at or after every reading stored so far and strictly after
 *     every earlier cut-off (`nextReadingsCutoff`), so the step reads every
 *     reading the ledger holds, as it always did;
 *   - a reading is stamped strictly after every cut-off already recorded
 *     (`receiptStamp`, in insertReadings' transaction), so a reading stored
 *     after a step, even in the same millisecond of a stopped ManualClock or
 *     after the wall clock stepped back, is never under that step's cut-off.
 * Both are the market clock's time unless the clock stalled or went back;
 * then they run ahead of it by a millisecond per step.
 */

/** The newest cut-off any metering step recorded, or null before the first. */
export function latestReadingsCutoff(ledger: Ledger): number | null {
  return (ledger.db.prepare('SELECT MAX(received_by) AS c FROM interval_energy').get() as { c: number | null }).c;
}

/** The cut-off for a metering step at market time `now`: now, or later if a reading or a cut-off is. */
export function nextReadingsCutoff(ledger: Ledger, now: number): number {
  const last = latestReadingsCutoff(ledger);
  const received = (ledger.db.prepare('SELECT MAX(received_at) AS r FROM readings').get() as { r: number | null }).r;
  return Math.max(now, received ?? now, last === null ? now : last + 1);
}

/** The received_at of readings stored now: `receivedAt`, or just after the newest cut-off. */
export function receiptStamp(ledger: Ledger, receivedAt: number): number {
  const last = latestReadingsCutoff(ledger);
  return last === null ? receivedAt : Math.max(receivedAt, last + 1);
}
