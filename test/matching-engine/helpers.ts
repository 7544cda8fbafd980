import type { ClearingRules, OrderInput, Side } from '../../core/market.js';
import type { Mechanism } from '../../core/config/schema.js';
import { RULE_SET_VERSION } from '../../matching-engine/rules.js';

export const I = '2026-11-21T20:00:00Z';

export function rules(mechanism: Mechanism = 'uniform', extra: Partial<ClearingRules> = {}): ClearingRules {
  return {
    mechanism,
    k: 0.5,
    priceTick: '0.0001',
    priceFloor: '0.0800',
    priceCap: '0.3000',
    zoneFees: [],
    zoneExportLimitsWh: {},
    ruleSetVersion: RULE_SET_VERSION,
    ...extra,
  };
}

export function order(id: string, side: Side, energyWh: number, price: string, seq: number, zone = 'main'): OrderInput {
  return { id, participant: `p-${id}`, side, interval: I, energyWh, price, zone, seq };
}
