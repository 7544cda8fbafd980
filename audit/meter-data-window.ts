import type { Config } from '../core/config/schema.js';
import type { Ledger } from '../ledger/ledger.js';
import { maxGapFor } from '../settlement/meter-data/index.js';
import type { EvidenceMeterDataRules } from './evidence.js';

/**
 * The series window and gap the metering step validates with
 * (app/cycle-steps.ts createCycleSteps: the same maxGapFor; the window is
 * the step's formula, written here again): readings from
 * 15 minutes (at least one interval) around the interval; a gap is longer
 * than the rules' default, 1.5 recording periods or 2.5 polls of market
 * time at the configured clock speed. The audit re-runs validation with
 * these, so they must stay equal to the step's (test/audit/ runs both on
 * a ledger recorded once per interval, where the default gap would differ).
 */
export function meterDataRulesOf(
  config: Pick<Config, 'market' | 'bridge' | 'clock'>,
  speed = config.clock.speed,
): EvidenceMeterDataRules {
  const intervalMs = config.market.intervalMinutes * 60_000;
  return {
    lookMs: Math.max(intervalMs, 15 * 60_000),
    maxGapMs: maxGapFor({
      recordEveryMs: config.bridge.recordEveryMs,
      pollIntervalMs: config.bridge.pollIntervalMs,
      speed,
    }),
  };
}

/**
 * kv key where `mgx start` records the market clock speed it meters at:
 * `--speed` on the command line overrides config.clock.speed and changes the
 * gap bound, so an audit run later (or from another shell) must use the
 * speed the engine used, not the config's.
 */
export const CLOCK_SPEED_KEY = 'clock.speed';

/** The speed the running (or last) `mgx start` on this ledger metered at, else the config's. */
export function meteredSpeed(ledger: Pick<Ledger, 'getKv'>, config: Pick<Config, 'clock'>): number {
  const v = Number(ledger.getKv(CLOCK_SPEED_KEY));
  return Number.isFinite(v) && v > 0 ? v : config.clock.speed;
}
