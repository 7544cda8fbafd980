import type { Decimal } from 'decimal.js';
import { Dec, formatMoney, roundMoney, type Wh } from '../core/units.js';
import { MicrogridError } from '../core/errors.js';
import type { DeliveredTrade, MeteredEnergy } from './delivery.js';
import type { MeterDataSummary } from './inputs.js';
import { apportion, sumDec } from './money.js';

/**
 * Statements of one interval, one per participant. Energy: what it bought and
 * sold as delivered, and what it took from or gave to the grid on its net
 * position (gridPosition: consumption not covered by purchases at the retail
 * tariff; export not sold, and purchases it did not consume, at the feed-in
 * tariff). Each statement says which meter data it used (detail.meterData)
 * and carries decisions on earlier held meter data (detail.adjustments).
 * Money with decimal.js: trade money and fees are summed exactly per
 * participant, then rounded by largest remainder so that Σ paid = Σ received
 * to the cent; grid amounts are rounded per participant (the grid is outside
 * the market). net = received − paid − fees + grid.
 */

export interface Tariffs {
  feedInTariff: string;
  retailTariff: string;
  minorUnits: number;
}

/** A decision on an earlier held meter-interval, billed on this (later) statement at the tariffs. */
export interface StatementAdjustment {
  interval: string;
  meterId: string;
  decision: string;
  status: string;
  importWh: Wh;
  exportWh: Wh;
  gridImportWh: Wh;
  gridExportWh: Wh;
  amount: string;
  by: string;
  reason: string;
}

export interface StatementDetail {
  trades: {
    kind: string;
    seq: number;
    role: 'buyer' | 'seller';
    counterparty: string;
    clearedWh: Wh;
    deliveredWh: Wh;
    price: string;
    fee: string;
  }[];
  meteredImportWh: Wh;
  meteredExportWh: Wh;
  /** Forward sales not delivered (this participant as seller). */
  shortfallWh: Wh;
  /** Purchases not consumed, returned to the grid. */
  excessWh: Wh;
  avgBuyPrice: string | null;
  avgSellPrice: string | null;
  feedInTariff: string;
  retailTariff: string;
  /**
   * The meter data this statement settled on when not all actual: estimated and partial settle against the grid, held
   * neither way.
   */
  meterData?: MeterDataSummary;
  /** Decisions on earlier held meter-intervals, included in gridAmount. */
  adjustments?: StatementAdjustment[];
}

export interface Statement {
  interval: string;
  participant: string;
  boughtWh: Wh;
  soldWh: Wh;
  gridImportWh: Wh;
  gridExportWh: Wh;
  /** Paid to sellers for energy. */
  paid: string;
  /** Received from buyers for energy. */
  received: string;
  /** Grid fees (and any McAfee operator margin) paid by the buyer. */
  fees: string;
  /** + feed-in revenue − retail cost. */
  gridAmount: string;
  net: string;
  detail: StatementDetail;
}

export interface BuildStatementsInput {
  interval: string;
  trades: readonly DeliveredTrade[];
  /** Energy settled against the grid (actual, estimated, partial); a held participant is absent. */
  energy: ReadonlyMap<string, MeteredEnergy>;
  tariffs: Tariffs;
  /** Per participant; absent: actual. */
  meterData?: ReadonlyMap<string, MeterDataSummary>;
  /** Per participant, already priced. */
  adjustments?: ReadonlyMap<string, StatementAdjustment[]>;
}

const kwh = (wh: Wh, price: string): Decimal => new Dec(wh).mul(price).div(1000);

/** Every participant of the interval, sorted: metered, with meter data or adjustments, or in a trade. */
export function participantsOf(input: BuildStatementsInput): string[] {
  const ids = new Set<string>(input.energy.keys());
  for (const id of input.meterData?.keys() ?? []) ids.add(id);
  for (const id of input.adjustments?.keys() ?? []) ids.add(id);
  for (const t of input.trades) ids.add(t.buyer).add(t.seller);
  return [...ids].sort();
}

/** What the interval's trades moved, per participant; a participant absent from a map moved nothing there. */
export interface TradeEnergy {
  bought: Map<string, Wh>;
  sold: Map<string, Wh>;
  /** Cleared but not delivered, per seller. */
  shortfall: Map<string, Wh>;
  /** One row per trade and side, in trade order; every participant of `ids` has a list. */
  details: Map<string, StatementDetail['trades']>;
}

/** The energy side of the statements, shared by buildStatements and the audit's integer recomputation. */
export function tradeEnergy(trades: readonly DeliveredTrade[], ids: readonly string[]): TradeEnergy {
  const bought = new Map<string, Wh>();
  const sold = new Map<string, Wh>();
  const shortfall = new Map<string, Wh>();
  const details = new Map<string, StatementDetail['trades']>(ids.map((id) => [id, []]));
  for (const t of trades) {
    bought.set(t.buyer, (bought.get(t.buyer) ?? 0) + t.deliveredWh);
    sold.set(t.seller, (sold.get(t.seller) ?? 0) + t.deliveredWh);
    shortfall.set(t.seller, (shortfall.get(t.seller) ?? 0) + t.energyWh - t.deliveredWh);
    const row = {
      kind: t.kind,
      seq: t.seq,
      clearedWh: t.energyWh,
      deliveredWh: t.deliveredWh,
      price: t.price,
      // McAfee trades: the operator's margin per kWh, as decimal.js prints the difference.
      fee: t.buyerPrice === undefined ? t.fee : new Dec(t.buyerPrice).minus(t.price).toString(),
    };
    details.get(t.buyer)!.push({ ...row, role: 'buyer', counterparty: t.seller });
    details.get(t.seller)!.push({ ...row, role: 'seller', counterparty: t.buyer });
  }
  return { bought, sold, shortfall, details };
}

export function buildStatements(input: BuildStatementsInput): Statement[] {
  const { tariffs } = input;
  const sorted = participantsOf(input);
  const paid = new Map<string, Decimal>(sorted.map((id) => [id, new Dec(0)]));
  const received = new Map(paid);
  const fees = new Map(paid);
  for (const t of input.trades) {
    const money = kwh(t.deliveredWh, t.price);
    const fee = t.buyerPrice === undefined ? kwh(t.deliveredWh, t.fee) : kwh(t.deliveredWh, t.buyerPrice).minus(money);
    paid.set(t.buyer, paid.get(t.buyer)!.plus(money));
    fees.set(t.buyer, fees.get(t.buyer)!.plus(fee));
    received.set(t.seller, received.get(t.seller)!.plus(money));
  }
  const { bought, sold, shortfall, details } = tradeEnergy(input.trades, sorted);
  const m = tariffs.minorUnits;
  const tradeTotal = roundMoney(sumDec(paid.values()), m);
  const paidR = apportion(paid, tradeTotal, m);
  const receivedR = apportion(received, tradeTotal, m);
  const feesR = apportion(fees, roundMoney(sumDec(fees.values()), m), m);

  const out = sorted.map((id): Statement => {
    const meterData = input.meterData?.get(id) ?? { status: 'actual' as const, meters: [] };
    const held = meterData.status === 'held';
    const e = input.energy.get(id) ?? { importWh: 0, exportWh: 0 };
    const b = bought.get(id) ?? 0;
    const s = sold.get(id) ?? 0;
    // A held participant settles nothing against the grid until its meter data is decided (a later adjustment).
    const g = held ? { gridImportWh: 0, gridExportWh: 0, excess: 0 } : gridPosition(e, b, s);
    const { gridImportWh, gridExportWh, excess } = g;
    const adjustments = input.adjustments?.get(id) ?? [];
    const gridAmount = roundMoney(
      kwh(gridExportWh, tariffs.feedInTariff).minus(kwh(gridImportWh, tariffs.retailTariff)),
      m,
    ).plus(sumDec(adjustments.map((a) => new Dec(a.amount))));
    const p = paidR.get(id)!;
    const r = receivedR.get(id)!;
    const f = feesR.get(id)!;
    return {
      interval: input.interval,
      participant: id,
      boughtWh: b,
      soldWh: s,
      gridImportWh,
      gridExportWh,
      paid: formatMoney(p, m),
      received: formatMoney(r, m),
      fees: formatMoney(f, m),
      gridAmount: formatMoney(gridAmount, m),
      net: formatMoney(r.minus(p).minus(f).plus(gridAmount), m),
      detail: {
        trades: details.get(id)!,
        meteredImportWh: e.importWh,
        meteredExportWh: e.exportWh,
        shortfallWh: shortfall.get(id) ?? 0,
        excessWh: excess,
        avgBuyPrice: b > 0 ? paid.get(id)!.mul(1000).div(b).toFixed(4) : null,
        avgSellPrice: s > 0 ? received.get(id)!.mul(1000).div(s).toFixed(4) : null,
        feedInTariff: tariffs.feedInTariff,
        retailTariff: tariffs.retailTariff,
        // Present only when they say something, so a statement on actual data reads as it always did.
        ...(meterData.status !== 'actual' ? { meterData } : {}),
        ...(adjustments.length > 0 ? { adjustments } : {}),
      },
    };
  });
  assertBalanced(input.interval, out);
  return out;
}

/**
 * What a participant takes from and gives to the grid in one interval, on its
 * net position (import and export are netted within the interval, as metered
 * clearing nets them: the solar it consumed itself is neither bought nor
 * sold): export − import − sold + bought, positive to the grid at the feed-in
 * tariff, negative from it at the retail tariff. `excess` is the part of its
 * purchases it did not consume (shown on the statement).
 */
export function gridPosition(
  e: MeteredEnergy,
  boughtWh: Wh,
  soldWh: Wh,
): { gridImportWh: Wh; gridExportWh: Wh; excess: Wh } {
  const position = e.exportWh - e.importWh - soldWh + boughtWh;
  return {
    gridImportWh: Math.max(0, -position),
    gridExportWh: Math.max(0, position),
    excess: Math.max(0, boughtWh - Math.max(0, e.importWh - e.exportWh)),
  };
}

/** Σ paid = Σ received to the cent, and Σ net = Σ grid − Σ fees: checked before anything is stored or sent. */
export function assertBalanced(interval: string, statements: readonly Statement[]): void {
  const sum = (f: (s: Statement) => string) => sumDec(statements.map((s) => new Dec(f(s))));
  const paid = sum((s) => s.paid);
  const received = sum((s) => s.received);
  if (!paid.eq(received)) {
    throw new MicrogridError(
      'SETTLEMENT_INVARIANT',
      `interval ${interval} does not balance: buyers pay ${paid}, sellers receive ${received}`,
      {
        field: 'statements',
        value: { paid: paid.toString(), received: received.toString() },
        expected: 'Σ paid = Σ received to the cent',
      },
    );
  }
  const net = sum((s) => s.net);
  const expected = sum((s) => s.gridAmount).minus(sum((s) => s.fees));
  if (!net.eq(expected)) {
    throw new MicrogridError(
      'SETTLEMENT_INVARIANT',
      `interval ${interval}: Σ net ${net} is not Σ grid − Σ fees ${expected}`,
      { field: 'statements.net', value: net.toString(), expected: expected.toString() },
    );
  }
}

const CSV_COLUMNS = [
  'interval',
  'participant',
  'boughtWh',
  'soldWh',
  'gridImportWh',
  'gridExportWh',
  'paid',
  'received',
  'fees',
  'gridAmount',
  'net',
] as const;

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One header row and one row per statement; money as decimal strings, energy in Wh. */
export function statementsToCsv(statements: readonly Statement[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const s of statements) lines.push(CSV_COLUMNS.map((c) => csvCell(s[c])).join(','));
  return lines.join('\n') + '\n';
}

export function statementsToJson(statements: readonly Statement[]): string {
  return JSON.stringify(statements, null, 2) + '\n';
}
