import type { EventBus } from '../core/events.js';
import type { AlarmCode } from '../core/alarm-codes.js';
import { toIso } from '../core/interval.js';
import type { MeterHold, StoredMeterIntervalEnergy, MeterDataReasonValue } from '../ledger/meter-data.js';

/**
 * Alarms about grid meters' data (a PV meter settles nothing, and an inverter
 * asleep at night is no fault): METER_DATA_MISSING when a held meter has no
 * trusted readings (only VEE_GAP), METER_DATA_HELD when a rule failed. Both
 * end (an event with `clears`) when no hold of that interval is pending.
 * Partial data raises nothing; estimated data one info line.
 */
const missingOnly = (reasons: readonly MeterDataReasonValue[]): boolean =>
  reasons.length > 0 && reasons.every((r) => r.code === 'VEE_GAP');

export function raiseMeterDataAlarms(
  bus: EventBus,
  start: number,
  energies: readonly (StoredMeterIntervalEnergy & { role: 'grid' | 'pv' })[],
  now: number,
): void {
  const at = new Date(now).toISOString();
  const grid = energies.filter((e) => e.role === 'grid');
  const held = grid.filter((e) => e.status === 'held');
  const groups: { code: AlarmCode; list: typeof held; what: string }[] = [
    { code: 'METER_DATA_MISSING', list: held.filter((e) => missingOnly(e.reasons)), what: 'no trusted readings' },
    { code: 'METER_DATA_HELD', list: held.filter((e) => !missingOnly(e.reasons)), what: 'data that failed validation' },
  ];
  for (const g of groups) {
    const first = g.list[0];
    if (!first) continue;
    bus.emit({
      type: 'alarm',
      severity: 'warning',
      code: g.code,
      subject: toIso(start),
      at,
      message: `${g.list.length} meter(s) have ${g.what} for ${toIso(start)}; held: they neither trade nor settle until the operator decides (GET /api/meter-data/holds): ${g.list.map((e) => e.meterId).join(', ')} (${first.meterId}: ${first.reasons.map((r) => `${r.code} ${r.message}`).join('; ')})`,
    });
  }
  const estimated = grid.filter((e) => e.status === 'estimated');
  if (estimated.length > 0) {
    bus.emit({
      type: 'alarm',
      severity: 'info',
      code: 'METER_DATA_ESTIMATED',
      subject: toIso(start),
      at,
      message: `${estimated.length} meter(s) have estimated data for ${toIso(start)} (settled against the grid, no credits): ${estimated.map((e) => e.meterId).join(', ')}`,
    });
  }
}

/** Ends the interval's meter data alarms once no hold of it is pending (after a decision or the window). */
export function clearMeterDataAlarms(
  bus: EventBus,
  holds: readonly MeterHold[],
  intervalStart: number,
  now: number,
): void {
  const mine = holds.filter((h) => h.intervalStart === intervalStart);
  if (mine.length === 0 || mine.some((h) => h.decision === null)) return;
  const at = new Date(now).toISOString();
  const codes = new Set<AlarmCode>(
    mine.map((h) => (missingOnly(h.reasons) ? 'METER_DATA_MISSING' : 'METER_DATA_HELD')),
  );
  for (const code of codes) {
    bus.emit({
      type: 'alarm',
      severity: 'info',
      code: 'METER_DATA_DECIDED',
      clears: code,
      subject: toIso(intervalStart),
      at,
      message: `every held meter of ${toIso(intervalStart)} is decided: ${mine.map((h) => `${h.meterId} ${h.decision} by ${h.decidedBy}`).join(', ')}`,
    });
  }
}
