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
import { assertCreditsEqualExport, computeCredits, type Credit } from './credits.js';
import { priceAdjustments } from './adjustments.js';
import {
  adjustmentGroups,
  boundaryReadings,
  markHoldsApplied,
  saveAdjustmentCredits,
  type AdjustmentGroup,
} from '../ledger/meter-data.js';
import { canonicalJson } from '../core/canonical-json.js';
import { keccak256, stringToHex } from 'viem';
import { participantAccount } from './accounts.js';
import { loadIntervalInputs, readingsRoot, ruleSetHash, tradeLeaf, type ReadingLeaf } from './inputs.js';
import { merkleRoot } from './merkle.js';

export type SettleConfig = {
  market: Pick<Config['market'], 'feedInTariff' | 'retailTariff'>;
  microgrid: Pick<Config['microgrid'], 'currencyMinorUnits'>;
};

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
 * (statements balance, Σ credits = Σ actual metered export) and written to the
 * ledger in one transaction together with the interval's move to `settled`.
 * Decisions on earlier held meter data are billed on these statements as
 * adjustments; accepted held export gets its credits in a commitment of its
 * own (ledger/meter-data.ts saveAdjustmentCredits).
 * The credits then wait in settlement_credits (status queued) for the
 * Submitter. Idempotent: settling again recomputes and finds the same.
 * An interval with no lifecycle row (tests, imports) is settled without one.
 */
export function settleInterval(
  ledger: Ledger,
  start: number,
  config: SettleConfig,
  now = Date.now(),
): SettleIntervalReturnType {
  const row = getInterval(ledger, start);
  if (row && stateRank(row.state) < stateRank('metered')) {
    throw new MicrogridError('SETTLEMENT_INPUT', `interval ${toIso(start)} is ${row.state}, not yet metered`, {
      field: 'interval',
      value: toIso(start),
      expected: 'an interval in state metered',
    });
  }
  const inputs = loadIntervalInputs(ledger, start);
  const delivered = deliver(inputs.interval, inputs.trades, inputs.energy);
  const tariffs = {
    feedInTariff: config.market.feedInTariff,
    retailTariff: config.market.retailTariff,
    minorUnits: config.microgrid.currencyMinorUnits,
  };
  const groups = adjustmentGroups(ledger, start);
  const adjustments = priceAdjustments(groups, tariffs);
  const statements = buildStatements({
    interval: inputs.interval,
    trades: delivered,
    energy: inputs.gridEnergy,
    meterData: inputs.meterData,
    adjustments: adjustments.byParticipant,
    tariffs,
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
    markHoldsApplied(
      ledger,
      groups.flatMap((g) => g.holds),
      start,
    );
    for (const a of adjustments.accepted) {
      const account = accountOf(a.group.participantId);
      const credits = [{ account, wh: a.wh, participants: [a.group.participantId] }];
      assertCreditsEqualExport(`${inputs.interval} (adjustment of ${toIso(a.group.intervalStart)})`, credits, a.wh);
      saveAdjustmentCredits(
        ledger,
        a.group.intervalStart,
        a.group.holds.filter((h) => h.decision === 'accept'),
        {
          exportWh: a.wh,
          tradesRoot: merkleRoot([]),
          readingsRoot: readingsRoot(adjustmentReadings(ledger, a.group)),
          ruleSet: keccak256(
            stringToHex(
              canonicalJson({
                adjustment: a.group.holds.map((h) => ({
                  meterId: h.meterId,
                  decision: h.decision,
                  by: h.decidedBy,
                  reason: h.decisionReason,
                  at: h.decidedAt,
                })),
              }),
            ),
          ),
          credits,
        },
        now,
      );
    }
  };
  if (row?.state === 'metered') advanceInterval(ledger, start, 'settled', now, write);
  else write();
  return { interval: inputs.interval, statements, credits, record, saved };
}

/** The signed readings at the boundaries of the held meter-intervals an adjustment credits. */
function adjustmentReadings(ledger: Ledger, g: AdjustmentGroup): ReadingLeaf[] {
  return boundaryReadings(
    ledger,
    g.intervalStart,
    g.holds.filter((h) => h.decision === 'accept').map((h) => h.meterId),
  );
}
