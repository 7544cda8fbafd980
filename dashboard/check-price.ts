import type { Config } from '../core/config/schema.js';
import { invalid } from '../core/errors.js';
import type { PriceScale } from '../core/units.js';

/**
 * A price per kWh within the market's floor (feed-in tariff) and cap (retail tariff); returns it normalised to the
 * tick's decimals.
 */
export function checkPrice(scale: PriceScale, market: Config['market'], value: unknown, field: string): string {
  const ticks = scale.toTicks(value, field);
  const floor = scale.toTicks(market.feedInTariff, 'market.feedInTariff');
  const cap = scale.toTicks(market.retailTariff, 'market.retailTariff');
  if (ticks < floor || ticks > cap)
    throw invalid(
      'INVALID_PRICE',
      field,
      value,
      `a price between the floor ${market.feedInTariff} and the cap ${market.retailTariff}`,
    );
  return scale.toString(ticks);
}
