import type { AlarmSeverity } from './events.js';

/**
 * Every alarm the system raises (AlarmEvent.code), with its severity. Like the
 * error codes, a code is what operators and rules match on; docs/errors.md
 * documents each in the same table of codes (a test keeps the two in step).
 * An alarm that ends another names it in `clears`.
 */
export const ALARM_CODES = {
  // devices (app/alarms.ts; the live view lists a device that is not online without an alarm of its own)
  DEVICE_OFFLINE: {
    severity: 'critical',
    summary: 'A device stopped answering; its meters do not trade until it answers again.',
  },
  DEVICE_ONLINE: { severity: 'info', summary: 'A device that was offline answers again (clears DEVICE_OFFLINE).' },
  DEVICE_STALE: {
    severity: 'warning',
    summary:
      'A device missed a poll (fewer than the misses that make it offline), is not polled yet, or its broker is unreachable.',
  },
  // chain and settlement
  CHAIN_UNAVAILABLE: {
    severity: 'critical',
    summary: 'The chain RPC does not answer; settled intervals queue and go in order when it returns.',
  },
  CHAIN_AVAILABLE: {
    severity: 'info',
    summary: 'The chain answers again; queued intervals are being sent (clears CHAIN_UNAVAILABLE).',
  },
  SETTLEMENT_STALLED: {
    severity: 'critical',
    summary: 'An interval has waited on the chain longer than chain.stalledAfterSeconds.',
  },
  SETTLEMENT_RESUMED: { severity: 'info', summary: 'A stalled interval went through (clears SETTLEMENT_STALLED).' },
  SETTLEMENT_FAILED: {
    severity: 'critical',
    summary: 'A settlement step failed or a transaction reverted; the message says why; the submitter retries.',
  },
  // interval lifecycle and orders
  INTERVAL_STEP_FAILED: {
    severity: 'critical',
    summary:
      'A lifecycle step of an interval threw; it stays where it was and is retried, later intervals wait on chain.',
  },
  CLOCK_JUMP: {
    severity: 'warning',
    summary: 'Market time moved back, or forward by more than one and a half intervals, between two passes.',
  },
  ORDER_EXCLUDED: { severity: 'warning', summary: 'Forward orders were left out of an interval at gate closure.' },
  // meter data (app/meter-data-alarms.ts, app/cycle-steps.ts)
  METER_DATA_MISSING: {
    severity: 'warning',
    summary: 'Grid meters have no trusted readings for an interval; held until the operator decides.',
  },
  METER_DATA_HELD: {
    severity: 'warning',
    summary: 'Grid meters have data that failed validation for an interval; held until the operator decides.',
  },
  METER_DATA_ESTIMATED: {
    severity: 'info',
    summary: 'Grid meters have estimated data for an interval: settled against the grid, no credits.',
  },
  METER_DATA_DECIDED: {
    severity: 'info',
    summary: 'Every held meter of an interval is decided (clears METER_DATA_MISSING or METER_DATA_HELD).',
  },
  METER_DATA_HOLD_ESTIMATED: {
    severity: 'info',
    summary: 'Held data had no decision within the window and was estimated.',
  },
} as const satisfies Record<string, { severity: AlarmSeverity; summary: string }>;

export type AlarmCode = keyof typeof ALARM_CODES;
