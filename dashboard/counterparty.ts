import type { Config } from '../core/config/schema.js';
import type { Principal } from './auth.js';

interface TradeSides {
  buyer: string;
  seller: string;
  buyOrder: string;
  sellOrder: string;
}

export type Redacted<T extends TradeSides> = Omit<T, keyof TradeSides> & {
  buyer: string | null;
  seller: string | null;
  buyOrder: string | null;
  sellOrder: string | null;
};

/**
 * A household sees who it traded with only when the operator turns names on
 * (`server.showCounterpartyNames`): otherwise the other side of each of its
 * trades is null ("a neighbour" on the page). The other side's order id goes
 * too, since a metered order's id names its participant (`m:<start>:<id>:<side>`).
 * Operators and auditors always see both sides.
 */
export function redactCounterparty<T extends TradeSides>(p: Principal | null, config: Config, t: T): Redacted<T> {
  if (p?.role !== 'household' || config.server.showCounterpartyNames) return t;
  const own = p.participant;
  return {
    ...t,
    buyer: t.buyer === own ? t.buyer : null,
    buyOrder: t.buyer === own ? t.buyOrder : null,
    seller: t.seller === own ? t.seller : null,
    sellOrder: t.seller === own ? t.sellOrder : null,
  };
}
