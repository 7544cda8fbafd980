import type { Ledger } from '../ledger/ledger.js';
import type { Config } from '../core/config/schema.js';
import { intervalMs, type IntervalMinutes } from '../core/interval.js';
import { runAudit } from './audit.js';
import { meterDataRulesOf, meteredSpeed } from './meter-data-window.js';
import type { AuditReport } from './types.js';

/**
 * The function app/start.ts passes to the dashboard as DashboardDeps.audit:
 *
 *   audit: auditForDashboard({ ledger, config, rpcUrl: chain.rpcUrl, contract: chain.contract })
 */
export function auditForDashboard(o: {
  ledger: Ledger;
  config: Config;
  rpcUrl: string;
  contract: string;
}): (range: { from: number; to: number }) => Promise<AuditReport> {
  const step = intervalMs(o.config.market.intervalMinutes as IntervalMinutes);
  const tariffs = {
    feedInTariff: o.config.market.feedInTariff,
    retailTariff: o.config.market.retailTariff,
    minorUnits: o.config.microgrid.currencyMinorUnits,
  };
  return (range) =>
    runAudit({
      ledger: o.ledger,
      rpcUrl: o.rpcUrl,
      contract: o.contract,
      from: range.from,
      to: range.to,
      intervalMs: step,
      tariffs,
      meterData: meterDataRulesOf(o.config, meteredSpeed(o.ledger, o.config)),
    });
}
