import type { Address } from 'viem';
import type { Ledger } from '../ledger/ledger.js';
import type { Config } from '../core/config/schema.js';
import { getInterval, advanceInterval } from '../ledger/intervals.js';
import { saveSettlement, type SettlementCreditsRecord } from '../ledger/statements.js';
import { stateRank } from '../core/interval-state.js';
import { toIso } from '../core/interval.js';
import { MicrogridError } from '../core/errors.js';
import { deliver } from './delivery.js';
import { buildStatements, type Statement } from './statements.js';
import { computeCredits, type Credit } from './credits.js';
import { participantAccount } from './accounts.js';
import { loadIntervalInputs, readingsRoot, ruleSetHash, tradeLeaf } from './inputs.js';
import { merkleRoot } from './merkle.js';

export type SettleConfig = { market: Pick<Config['market'], 'feedInTariff' | 'retailTariff'>; microgrid: Pick<Config['microgrid'], 'currencyMinorUnits'> };

export interface SettleIntervalReturnType {
  interval: string;
  statements: Statement[];
  credits: Credit[];
  record: Omit<SettlementCreditsRecord, 'status' | 'start'>;
  /** 'unchanged' when the interval was already settled with the same figures. */
  saved: 'saved' | 'unchanged';
}

/**
 * Settles one metered interval: delivery, statements and credits, checked
 * (statements balance, Σ credits = Σ metered export) and written to the
 * ledger in one transaction together with the interval's move to `settled`.
 * The credits then wait in settlement_credits (status queued) for the
 * Submitter. Idempotent: settling again recomputes and finds the same.
 * An interval with no lifecycle row (tests, imports) is settled without one.
 */
export function settleInterval(ledger: Ledger, start: number, config: SettleConfig, now = Date.now()): SettleIntervalReturnType {
  const row = getInterval(ledger, start);
  if (row && stateRank(row.state) < stateRank('metered')) {
    throw new MicrogridError('SETTLEMENT_INPUT', `interval ${toIso(start)} is ${row.state}, not yet metered`, { field: 'interval', value: toIso(start), expected: 'an interval in state metered' });
  }
  const inputs = loadIntervalInputs(ledger, start);
  const delivered = deliver(inputs.interval, inputs.trades, inputs.energy);
  const statements = buildStatements({
    interval: inputs.interval,
    trades: delivered,
    energy: inputs.energy,
    tariffs: { feedInTariff: config.market.feedInTariff, retailTariff: config.market.retailTariff, minorUnits: config.microgrid.currencyMinorUnits },
  });
  const accountOf = (id: string): Address => participantAccount({ id, account: inputs.accounts.get(id) ?? null });
  const credits = computeCredits(inputs.interval, delivered, inputs.energy, accountOf);
  const record = {
    exportWh: [...inputs.energy.values()].reduce((s, e) => s + e.exportWh, 0),
    matchedWh: delivered.reduce((s, t) => s + t.deliveredWh, 0),
    tradesRoot: merkleRoot(delivered.map(tradeLeaf)),
    readingsRoot: readingsRoot(inputs.readings),
    ruleSet: ruleSetHash(inputs.results),
    credits: credits.map((c) => ({ account: c.account, wh: c.wh, participants: c.participants })),
  };
  let saved: 'saved' | 'unchanged' = 'unchanged';
  const write = () => {
    saved = saveSettlement(ledger, start, statements, record, now);
  };
  if (row?.state === 'metered') advanceInterval(ledger, start, 'settled', now, write);
  else write();
  return { interval: inputs.interval, statements, credits, record, saved };
}
