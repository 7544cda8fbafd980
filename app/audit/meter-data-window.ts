import type { Config } from '../../core/config/schema.js';
import { maxGapFor } from '../../settlement/meter-data/index.js';
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
export function meterDataRulesOf(config: Pick<Config, 'market' | 'bridge' | 'clock'>, speed = config.clock.speed): EvidenceMeterDataRules {
  const intervalMs = config.market.intervalMinutes * 60_000;
  return {
    lookMs: Math.max(intervalMs, 15 * 60_000),
    maxGapMs: maxGapFor({ recordEveryMs: config.bridge.recordEveryMs, pollIntervalMs: config.bridge.pollIntervalMs, speed }),
  };
}
