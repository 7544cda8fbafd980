import type { Ledger } from '../../../ledger/ledger.js';
import { listOrders as ordersOf } from '../../../ledger/orders.js';
import { listParticipants } from '../../../ledger/participants.js';

/** What of one participant the hostile tests compare before and after an attack. */
export const listOrders = (ledger: Ledger, participantId: string) => ordersOf(ledger, { participantId, limit: 10_000 });
export const getPolicy = (ledger: Ledger, participantId: string) => {
  const p = listParticipants(ledger).find((x) => x.id === participantId);
  return p ? { minSellPrice: p.minSellPrice, maxBuyPrice: p.maxBuyPrice } : undefined;
};
