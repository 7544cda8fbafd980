import { Decimal } from 'decimal.js';
import { invalid } from './errors.js';

/**
 * Units of DESIGN.md. Energy is an integer number of Wh, power an integer or
 * real number of W. Prices are per kWh: a decimal string outside ("0.1250"),
 * an integer number of ticks inside. Money is decimal.js, never a float.
 */

/** Energy in Wh: always a safe integer. */
export type Wh = number;
/** Power in W. */
export type Watts = number;
/** A price as an integer count of price ticks per kWh. */
export type PriceTicks = number;
/** A price per kWh as a decimal string, e.g. "0.1250". */
export type PriceString = string;

/** A decimal.js constructor with enough precision that Wh × price never rounds. */
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });
export type Dec = Decimal;

const DECIMAL_RE = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/** True when `s` is a plain decimal string: no exponent, sign only `-`, no spaces. */
export function isDecimalString(s: unknown): s is string {
  return typeof s === 'string' && DECIMAL_RE.test(s);
}

/** Validates an energy value in Wh. `allowZero` for totals and counters. */
export function assertWh(value: unknown, field: string, opts: { allowZero?: boolean } = {}): Wh {
  const ok = typeof value === 'number' && Number.isSafeInteger(value) && (opts.allowZero ? value >= 0 : value > 0);
  if (!ok) {
    throw invalid(
      'INVALID_ENERGY',
      field,
      value,
      opts.allowZero ? 'a non-negative integer number of Wh' : 'a positive integer number of Wh',
    );
  }
  return value;
}

/** Number of decimal places of a tick such as "0.0001" (→ 4). */
export function tickDecimals(tick: PriceString): number {
  const dot = tick.indexOf('.');
  return dot < 0 ? 0 : tick.length - dot - 1;
}

/**
 * A price context: converts between decimal strings and integer ticks for one
 * tick size. Build it once from config and pass it around.
 */
export class PriceScale {
  readonly tick: PriceString;
  readonly decimals: number;
  readonly #tick: Decimal;

  constructor(tick: PriceString) {
    if (!isDecimalString(tick) || new Dec(tick).lte(0)) {
      throw invalid('INVALID_PRICE', 'market.priceTick', tick, 'a positive decimal string such as "0.0001"');
    }
    this.tick = tick;
    this.#tick = new Dec(tick);
    this.decimals = tickDecimals(tick);
  }

  /** "0.1250" → 1250 ticks (with tick 0.0001). Refuses non-decimals and off-grid prices. */
  toTicks(price: unknown, field = 'price'): PriceTicks {
    if (!isDecimalString(price)) {
      throw invalid('INVALID_PRICE', field, price, `a decimal string such as "0.1250" (per kWh)`);
    }
    const ticks = new Dec(price).div(this.#tick);
    if (!ticks.isInteger()) {
      throw invalid('INVALID_PRICE', field, price, `a multiple of the price tick ${this.tick}`);
    }
    const n = ticks.toNumber();
    if (!Number.isSafeInteger(n))
      throw invalid('INVALID_PRICE', field, price, 'a price within the safe integer range of ticks');
    return n;
  }

  /** 1250 → "0.1250". Always prints the tick's number of decimals. */
  toString(ticks: PriceTicks): PriceString {
    return new Dec(ticks).mul(this.#tick).toFixed(this.decimals);
  }

  /** Ticks as an exact decimal price per kWh. */
  toDecimal(ticks: PriceTicks): Decimal {
    return new Dec(ticks).mul(this.#tick);
  }

  /** The exact amount of money for `wh` at `ticks` per kWh: wh × price / 1000. */
  amount(wh: Wh, ticks: PriceTicks): Decimal {
    return new Dec(wh).mul(ticks).mul(this.#tick).div(1000);
  }
}

/** Rounds money to the currency's minor unit (2 for cents), half to even. */
export function roundMoney(amount: Decimal, minorUnits: number): Decimal {
  return amount.toDecimalPlaces(minorUnits, Decimal.ROUND_HALF_EVEN);
}

/** Formats money with exactly `minorUnits` decimals ("12.30"). */
export function formatMoney(amount: Decimal, minorUnits: number): string {
  return amount.toFixed(minorUnits, Decimal.ROUND_HALF_EVEN);
}
