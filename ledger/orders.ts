import type { Ledger } from './ledger.js';
import type { Side } from '../core/market.js';

/** An order as the ledger holds it (forward orders from the API, metered orders from settlement). */
export interface OrderRow {
  id: string;
  intervalStart: number;
  participantId: string;
  side: Side;
  energyWh: number;
  price: string;
  zone: string;
  seq: number;
  source: 'forward' | 'metered';
  status: 'open' | 'cancelled' | 'replaced' | 'closed' | 'rejected';
  partners: string[] | null;
  greenOnly: boolean;
  createdAt: number;
  /** Why the engine excluded the order at gate closure (status `rejected`); null otherwise. */
  rejectedReason: string | null;
}

export interface NewForwardOrder {
  id: string;
  intervalStart: number;
  participantId: string;
  side: Side;
  energyWh: number;
  price: string;
  zone: string;
  partners: string[] | null;
  greenOnly: boolean;
  createdAt: number;
}

const COLUMNS = `id, interval_start AS intervalStart, participant_id AS participantId, side, energy_wh AS energyWh, price, zone, seq,
  source, status, partners, green_only AS greenOnly, created_at AS createdAt, rejected_reason AS rejectedReason`;

type RawOrder = Omit<OrderRow, 'partners' | 'greenOnly'> & { partners: string | null; greenOnly: number };

function fromRaw(r: RawOrder): OrderRow {
  return { ...r, partners: r.partners === null ? null : (JSON.parse(r.partners) as string[]), greenOnly: r.greenOnly === 1 };
}

/**
 * Stores a forward order with the next submission sequence number. The
 * sequence is taken inside the same IMMEDIATE transaction as the insert, so
 * two concurrent writers can never draw the same number (the engine breaks
 * ties by it).
 */
export function insertForwardOrder(ledger: Ledger, o: NewForwardOrder): OrderRow {
  return ledger.tx(() => {
    const { seq } = ledger.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM orders').get() as { seq: number };
    ledger.db
      .prepare(
        `INSERT INTO orders (id, interval_start, participant_id, side, energy_wh, price, zone, seq, source, status, partners, green_only, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'forward', 'open', ?, ?, ?)`,
      )
      .run(o.id, o.intervalStart, o.participantId, o.side, o.energyWh, o.price, o.zone, seq, o.partners === null ? null : JSON.stringify(o.partners), o.greenOnly ? 1 : 0, o.createdAt);
    return getOrder(ledger, o.id)!;
  });
}

export function getOrder(ledger: Ledger, id: string): OrderRow | undefined {
  const r = ledger.db.prepare(`SELECT ${COLUMNS} FROM orders WHERE id = ?`).get(id) as RawOrder | undefined;
  return r ? fromRaw(r) : undefined;
}

/** Marks an open order cancelled. Returns false when it was not open (already cancelled, closed, replaced). */
export function cancelOrder(ledger: Ledger, id: string): boolean {
  return ledger.db.prepare(`UPDATE orders SET status = 'cancelled' WHERE id = ? AND status = 'open'`).run(id).changes === 1;
}

export interface ListOrdersFilter {
  participantId?: string;
  intervalStart?: number;
  from?: number;
  to?: number;
  status?: OrderRow['status'];
  source?: OrderRow['source'];
  limit?: number;
}

export function listOrders(ledger: Ledger, f: ListOrdersFilter = {}): OrderRow[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  const add = (sql: string, v: string | number | undefined): void => {
    if (v === undefined) return;
    where.push(sql);
    args.push(v);
  };
  add('participant_id = ?', f.participantId);
  add('interval_start = ?', f.intervalStart);
  add('interval_start >= ?', f.from);
  add('interval_start < ?', f.to);
  add('status = ?', f.status);
  add('source = ?', f.source);
  const sql = `SELECT ${COLUMNS} FROM orders ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY interval_start DESC, seq DESC LIMIT ?`;
  return (ledger.db.prepare(sql).all(...args, f.limit ?? 1000) as RawOrder[]).map(fromRaw);
}

/** Updates a participant's standing price policy (the household's own prices). */
export function setPolicy(ledger: Ledger, participantId: string, policy: { minSellPrice: string | null; maxBuyPrice: string | null }, now: number): boolean {
  return (
    ledger.db
      .prepare('UPDATE participants SET min_sell_price = ?, max_buy_price = ?, updated_at = ? WHERE id = ?')
      .run(policy.minSellPrice, policy.maxBuyPrice, now, participantId).changes === 1
  );
}

/** Marks open orders rejected with their reasons (gate closure's exclusions); returns how many changed. */
export function rejectOrders(ledger: Ledger, rejections: readonly { id: string; reason: string }[]): number {
  const stmt = ledger.db.prepare(`UPDATE orders SET status = 'rejected', rejected_reason = ? WHERE id = ? AND status = 'open'`);
  let n = 0;
  ledger.tx(() => {
    for (const r of rejections) n += stmt.run(r.reason, r.id).changes;
  });
  return n;
}

/** The Wh of a participant's open forward orders of one side for one interval: what a new order adds to. */
export function openOrderWh(ledger: Ledger, participantId: string, intervalStart: number, side: Side): number {
  const row = ledger.db
    .prepare(`SELECT COALESCE(SUM(energy_wh), 0) AS wh FROM orders WHERE participant_id = ? AND interval_start = ? AND side = ? AND source = 'forward' AND status = 'open'`)
    .get(participantId, intervalStart, side) as { wh: number };
  return row.wh;
}
