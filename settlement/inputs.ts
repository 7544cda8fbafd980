import { keccak256, stringToHex, type Hex } from 'viem';
import type { Ledger } from '../ledger/ledger.js';
import { getClearing } from '../ledger/clearing.js';
import { listGridMeterEnergy } from '../ledger/interval-energy.js';
import { listParticipants } from '../ledger/participants.js';
import { getSignedCounters } from '../ledger/readings.js';
import { canonicalJson } from '../core/canonical-json.js';
import { toIso } from '../core/interval.js';
import { MicrogridError } from '../core/errors.js';
import type { ClearingResult } from '../core/market.js';
import type { IntervalTrade, MeteredEnergy } from './delivery.js';
import { merkleRoot } from './merkle.js';

/**
 * Reads what settling one interval needs from the ledger: its clearing
 * results (forward and metered), the metered energy per participant (the sum
 * over its grid-connection meters: import = bought from anywhere, export =
 * metered surplus) split by meter data status (only actual energy delivers
 * trades and earns credits; estimated and partial settle against the grid;
 * held settles neither way) and the signed readings at the interval's boundaries, from
 * which the energies were computed.
 */

export interface ReadingLeaf {
  meterId: string;
  /** Epoch ms, as stored. */
  ts: number;
  importWh: number | null;
  exportWh: number | null;
  signature: string | null;
}

export type ParticipantMeterData = 'actual' | 'estimated' | 'partial' | 'held';

export interface MeterDataSummary {
  /** The participant's weakest grid-meter status: held > estimated > partial > actual. */
  status: ParticipantMeterData;
  meters: {
    meterId: string;
    status: ParticipantMeterData;
    reasons: { code: string; message: string }[];
    method: string | null;
    importWh: number;
    exportWh: number;
  }[];
}

export interface IntervalInputs {
  interval: string;
  results: ClearingResult[];
  trades: IntervalTrade[];
  /** Actual energy only, per participant whose grid meters are all actual: what trades deliver and credits count. */
  energy: Map<string, MeteredEnergy>;
  /** Energy settled against the grid: actual, estimated and partial (held participants are absent). */
  gridEnergy: Map<string, MeteredEnergy>;
  meterData: Map<string, MeterDataSummary>;
  readings: ReadingLeaf[];
  accounts: Map<string, string | null>;
}

export function loadIntervalInputs(ledger: Ledger, start: number): IntervalInputs {
  const interval = toIso(start);
  const results = (['forward', 'metered'] as const)
    .map((k) => getClearing(ledger, start, k))
    .filter((r): r is ClearingResult => r !== undefined);
  if (results.length === 0) {
    throw new MicrogridError('SETTLEMENT_INPUT', `interval ${interval} has no clearing result`, {
      field: 'interval',
      value: interval,
      expected: 'a cleared interval (forward or metered ClearingResult in the ledger)',
    });
  }
  const trades: IntervalTrade[] = results.flatMap((r) => r.trades.map((t, seq) => ({ ...t, kind: r.kind, seq })));
  const rows = listGridMeterEnergy(ledger, start);
  if (rows.length === 0) {
    throw new MicrogridError('SETTLEMENT_INPUT', `interval ${interval} has no metered energy`, {
      field: 'interval',
      value: interval,
      expected: 'interval_energy rows for the grid meters (a metered interval)',
    });
  }
  const meterData = new Map<string, MeterDataSummary>();
  const rank: Record<ParticipantMeterData, number> = { actual: 0, partial: 1, estimated: 2, held: 3 };
  const sums = new Map<string, MeteredEnergy>();
  for (const r of rows) {
    const m = meterData.get(r.participant) ?? { status: 'actual', meters: [] };
    m.meters.push({
      meterId: r.meterId,
      status: r.status,
      reasons: r.reasons,
      method: r.method,
      importWh: r.importWh,
      exportWh: r.exportWh,
    });
    if (rank[r.status] > rank[m.status]) m.status = r.status;
    meterData.set(r.participant, m);
    const e = sums.get(r.participant) ?? { importWh: 0, exportWh: 0 };
    sums.set(r.participant, { importWh: e.importWh + r.importWh, exportWh: e.exportWh + r.exportWh });
  }
  const energy = new Map<string, MeteredEnergy>();
  const gridEnergy = new Map<string, MeteredEnergy>();
  for (const [p, e] of sums) {
    const status = meterData.get(p)!.status;
    if (status === 'actual') energy.set(p, e);
    if (status !== 'held') gridEnergy.set(p, e);
  }
  const readings: ReadingLeaf[] = [];
  for (const r of rows) {
    for (const ts of new Set([r.firstTs, r.lastTs])) {
      if (ts === null) continue;
      const reading = getSignedCounters(ledger, r.meterId, ts);
      if (reading) readings.push(reading);
    }
  }
  readings.sort((a, b) => (a.meterId < b.meterId ? -1 : a.meterId > b.meterId ? 1 : a.ts - b.ts));
  const accounts = new Map(listParticipants(ledger).map((p) => [p.id, p.account]));
  for (const t of trades) {
    for (const who of [t.buyer, t.seller]) {
      if (!accounts.has(who))
        throw new MicrogridError('SETTLEMENT_INPUT', `interval ${interval}: trade names an unknown participant`, {
          field: 'trades',
          value: who,
          expected: 'a participant in the ledger',
        });
    }
  }
  return { interval, results, trades, energy, gridEnergy, meterData, readings, accounts };
}

/** Leaf of a signed reading: keccak256 of the UTF-8 canonical JSON of {exportWh, importWh, meterId, signature, ts}. */
export function readingLeaf(r: ReadingLeaf): Hex {
  return keccak256(
    stringToHex(
      canonicalJson({
        meterId: r.meterId,
        ts: r.ts,
        importWh: r.importWh,
        exportWh: r.exportWh,
        signature: r.signature,
      }),
    ),
  );
}

/** Leaf of a trade: keccak256 of the canonical JSON of the trade as cleared, its kind, position and delivered Wh. */
export function tradeLeaf(t: IntervalTrade & { deliveredWh: number }): Hex {
  return keccak256(stringToHex(canonicalJson(t)));
}

export function readingsRoot(readings: readonly ReadingLeaf[]): Hex {
  return merkleRoot(readings.map(readingLeaf));
}

/** keccak256 of the canonical JSON of the rule sets the interval was cleared with, by kind. */
export function ruleSetHash(results: readonly ClearingResult[]): Hex {
  const byKind = Object.fromEntries(results.map((r) => [r.kind, r.rules]));
  return keccak256(stringToHex(canonicalJson(byKind)));
}
