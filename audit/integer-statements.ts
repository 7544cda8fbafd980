import {
  gridPosition,
  participantsOf,
  tradeEnergy,
  type BuildStatementsInput,
  type Statement,
} from '../settlement/statements.js';

/**
 * settlement/statements.ts buildStatements in integer arithmetic, for check 5:
 * every amount is an exact bigint count of 10^-S (S: the most decimals of any
 * price, plus 3 for Wh → kWh), so decimal.js is needed only for a McAfee
 * trade's fee string. The same steps in the same order: exact sums per
 * participant, rounded half to even, largest-remainder apportioning (ties by
 * key), grid amounts rounded per participant, strings as decimal.js's toFixed
 * prints them ("-" for a negative value that rounds to zero, none for zero
 * itself). With decimal.js, recomputing the statements was ~6 % of the audit's
 * CPU and a tenth of its allocations (480 × 100).
 *
 * undefined where it does not follow: a price or amount that is not a plain
 * decimal string, an energy that is not a safe integer, statements that do
 * not balance (buildStatements throws there). check-statements.ts then calls
 * buildStatements itself, as it also does whenever a statement recomputed
 * here differs from the stored one, so what check 5 reports is always what
 * buildStatements gives (a property test compares the two).
 */
export function integerStatements(input: BuildStatementsInput): Statement[] | undefined {
  const { tariffs } = input;
  const m = tariffs.minorUnits;
  if (!Number.isSafeInteger(m) || m < 0 || m > 20) return undefined;
  // The scale: every price's decimals + 3 (Wh × price / 1000), and at least the money's own.
  let S = m;
  const decimalsOf = (s: string): number => {
    const d = PLAIN.exec(s);
    if (!d) throw DECLINE;
    return (d[3]?.length ?? 0) + 3;
  };
  const adjustmentLists = [...(input.adjustments?.values() ?? [])];
  try {
    S = Math.max(S, decimalsOf(tariffs.feedInTariff), decimalsOf(tariffs.retailTariff));
    for (const t of input.trades) {
      S = Math.max(S, decimalsOf(t.price), decimalsOf(t.fee));
      if (t.buyerPrice !== undefined) S = Math.max(S, decimalsOf(t.buyerPrice));
      if (!safe(t.deliveredWh) || !safe(t.energyWh)) return undefined;
    }
    // An adjustment's amount is money (formatMoney): more decimals than the currency's, and the sum would need them.
    for (const list of adjustmentLists) for (const a of list) if (decimalsOf(a.amount) - 3 > m) return undefined;
  } catch (e) {
    if (e === DECLINE) return undefined;
    throw e;
  }
  for (const e of input.energy.values()) if (!safe(e.importWh) || !safe(e.exportWh)) return undefined;
  const scaled = new Map<string, bigint>();
  /** A decimal string as a count of 10^-S. */
  const units = (s: string, shift = 0): bigint => {
    const key = shift === 0 ? s : `${shift} ${s}`;
    let v = scaled.get(key);
    if (v === undefined) {
      const d = PLAIN.exec(s)!;
      const frac = d[3] ?? '';
      v = BigInt(`${d[2]}${frac}`) * 10n ** BigInt(S - shift - frac.length);
      if (d[1]) v = -v;
      scaled.set(key, v);
    }
    return v;
  };
  /** Wh × price per kWh / 1000, exact. */
  const kwh = (wh: number, price: string): bigint => BigInt(wh) * units(price, 3);
  const toMoney = 10n ** BigInt(S - m);

  const sorted = participantsOf(input);
  const paid = new Map<string, bigint>(sorted.map((id) => [id, 0n]));
  const received = new Map(paid);
  const fees = new Map(paid);
  // decimal.js (precision 40) is exact while every sum stays within 40 digits: beyond, it rounds and this does not.
  let magnitude = 0n;
  for (const t of input.trades) {
    const money = kwh(t.deliveredWh, t.price);
    const fee = t.buyerPrice === undefined ? kwh(t.deliveredWh, t.fee) : kwh(t.deliveredWh, t.buyerPrice) - money;
    magnitude += (money < 0n ? -money : money) + (fee < 0n ? -fee : fee);
    paid.set(t.buyer, paid.get(t.buyer)! + money);
    fees.set(t.buyer, fees.get(t.buyer)! + fee);
    received.set(t.seller, received.get(t.seller)! + money);
  }
  if (magnitude >= LIMIT) return undefined;
  const { bought, sold, shortfall, details } = tradeEnergy(input.trades, sorted);
  const sum = (xs: Iterable<bigint>) => {
    let s = 0n;
    for (const x of xs) s += x;
    return s;
  };
  // Amounts in minor units from here on.
  const tradeTotal = roundHalfEven(sum(paid.values()), toMoney);
  const paidR = apportion(paid, tradeTotal, toMoney);
  const receivedR = apportion(received, tradeTotal, toMoney);
  const feesR = apportion(fees, roundHalfEven(sum(fees.values()), toMoney), toMoney);

  let tooLarge = false;
  const out = sorted.map((id): Statement => {
    const meterData = input.meterData?.get(id) ?? { status: 'actual' as const, meters: [] };
    const held = meterData.status === 'held';
    const e = input.energy.get(id) ?? { importWh: 0, exportWh: 0 };
    const b = bought.get(id) ?? 0;
    const s = sold.get(id) ?? 0;
    const g = held ? { gridImportWh: 0, gridExportWh: 0, excess: 0 } : gridPosition(e, b, s);
    const { gridImportWh, gridExportWh, excess } = g;
    const adjustments = input.adjustments?.get(id) ?? [];
    const grid = kwh(gridExportWh, tariffs.feedInTariff) - kwh(gridImportWh, tariffs.retailTariff);
    if (grid >= LIMIT || -grid >= LIMIT) tooLarge = true;
    let gridAmount = roundHalfEven(grid, toMoney);
    for (const a of adjustments) gridAmount += units(a.amount) / toMoney;
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
      paid: fixed(p, m),
      received: fixed(r, m),
      fees: fixed(f, m),
      gridAmount: fixed(gridAmount, m),
      net: fixed(r - p - f + gridAmount, m),
      detail: {
        trades: details.get(id)!,
        meteredImportWh: e.importWh,
        meteredExportWh: e.exportWh,
        shortfallWh: shortfall.get(id) ?? 0,
        excessWh: excess,
        avgBuyPrice: b > 0 ? average(paid.get(id)!, b, S) : null,
        avgSellPrice: s > 0 ? average(received.get(id)!, s, S) : null,
        feedInTariff: tariffs.feedInTariff,
        retailTariff: tariffs.retailTariff,
        ...(meterData.status !== 'actual' ? { meterData } : {}),
        ...(adjustments.length > 0 ? { adjustments } : {}),
      },
    };
  });
  // buildStatements' assertBalanced: where it would throw, buildStatements is left to throw it.
  let paidSum = 0n;
  let receivedSum = 0n;
  let balance = 0n;
  for (const id of sorted) {
    paidSum += paidR.get(id)!;
    receivedSum += receivedR.get(id)!;
  }
  for (const st of out) balance += parse(st.net, m) - parse(st.gridAmount, m) + parse(st.fees, m);
  if (tooLarge || paidSum !== receivedSum || balance !== 0n) return undefined;
  return out;
}

/** A plain decimal string: sign, integer digits, fraction digits. */
const PLAIN = /^(-?)(\d+)(?:\.(\d+))?$/;
const DECLINE = Symbol('decline');
/** 10^38 counts of 10^-S: sums below it have at most 38 digits, exact in decimal.js's 40. */
const LIMIT = 10n ** 38n;
const safe = (x: number) => Number.isSafeInteger(x);

/** v / q rounded half to even (q > 0). */
function roundHalfEven(v: bigint, q: bigint): bigint {
  let n = v / q;
  const r = v - n * q;
  const twice = 2n * (r < 0n ? -r : r);
  if (twice > q || (twice === q && n % 2n !== 0n)) n += r < 0n ? -1n : 1n;
  return n;
}

/** v / q rounded down (towards −∞), and what is left over (q > 0). */
function floorDiv(v: bigint, q: bigint): { floor: bigint; rem: bigint } {
  let floor = v / q;
  if (v - floor * q < 0n) floor -= 1n;
  return { floor, rem: v - floor * q };
}

/** settlement/money.ts apportion on counts of 10^-S, to counts of minor units (q = 10^(S − minor units)). */
function apportion(exact: ReadonlyMap<string, bigint>, target: bigint, q: bigint): Map<string, bigint> {
  const rows = [...exact].map(([key, v]) => ({ key, ...floorDiv(v, q) }));
  let diff = target;
  for (const r of rows) diff -= r.floor;
  const out = new Map(rows.map((r) => [r.key, r.floor]));
  const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : 1);
  if (diff > 0n) {
    const order = rows.slice().sort((a, b) => (a.rem === b.rem ? byKey(a, b) : a.rem < b.rem ? 1 : -1));
    for (let i = 0; diff > 0n && order.length; i = (i + 1) % order.length, diff--)
      out.set(order[i]!.key, out.get(order[i]!.key)! + 1n);
  } else if (diff < 0n) {
    const order = rows.slice().sort((a, b) => (a.rem === b.rem ? byKey(a, b) : a.rem < b.rem ? -1 : 1));
    for (let i = 0; diff < 0n && order.length; i = (i + 1) % order.length, diff++)
      out.set(order[i]!.key, out.get(order[i]!.key)! - 1n);
  }
  return out;
}

/** A count of 10^-d as decimal.js's toFixed(d) prints an exact value: "-" only when it is below zero. */
function fixed(k: bigint, d: number): string {
  const digits = (k < 0n ? -k : k).toString().padStart(d + 1, '0');
  const body = d === 0 ? digits : `${digits.slice(0, -d)}.${digits.slice(-d)}`;
  return k < 0n ? `-${body}` : body;
}

/** fixed(k, d) back to k. */
function parse(s: string, d: number): bigint {
  const [int, frac = ''] = s.replace('-', '').split('.');
  const k = BigInt(`${int}${frac.padEnd(d, '0')}`);
  return s.startsWith('-') ? -k : k;
}

/**
 * buildStatements' average price, (money × 1000 / Wh).toFixed(4): money as a count of 10^-S, exact, rounded once half to
 * even (decimal.js divides to 40 significant digits first, which rounds the same for any Wh below 10^30), "-" for any
 * negative value, also one that rounds to zero, as toFixed prints it.
 */
function average(money: bigint, wh: number, S: number): string {
  const num = money * 1000n * 10n ** 4n;
  const den = BigInt(wh) * 10n ** BigInt(S);
  const k = roundHalfEven(num < 0n ? -num : num, den);
  const s = fixed(k, 4);
  return num < 0n ? `-${s}` : s;
}

/**
 * Decimal strings as counts of 10^-scale (scale: the most decimals among them), exact; undefined unless every one is a
 * plain decimal (check 5 then sums the stored statements with decimal.js, which reads more notations).
 */
export function exactDecimals(strings: readonly string[]): { scale: number; values: bigint[] } | undefined {
  let scale = 0;
  const parts: RegExpExecArray[] = [];
  for (const s of strings) {
    const d = PLAIN.exec(s);
    if (!d) return undefined;
    parts.push(d);
    scale = Math.max(scale, d[3]?.length ?? 0);
  }
  const values = parts.map((d) => {
    const frac = d[3] ?? '';
    const v = BigInt(`${d[2]}${frac}`) * 10n ** BigInt(scale - frac.length);
    return d[1] ? -v : v;
  });
  return { scale, values };
}

/** A count of 10^-scale as decimal.js's toFixed(d) prints it (half to even; "-" for any value below zero). */
export function toFixed(v: bigint, scale: number, d: number): string {
  const k =
    scale > d ? roundHalfEven(v < 0n ? -v : v, 10n ** BigInt(scale - d)) : (v < 0n ? -v : v) * 10n ** BigInt(d - scale);
  const s = fixed(k, d);
  return v < 0n ? `-${s}` : s;
}
