import type { Ledger } from './ledger.js';
import type { OrderInput, Side } from '../core/market.js';
import { prepared } from './prepared.js';
import { whereOf } from './where.js';

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
  return {
    ...r,
    partners: r.partners === null ? null : (JSON.parse(r.partners) as string[]),
    greenOnly: r.greenOnly === 1,
  };
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
      .run(
        o.id,
        o.intervalStart,
        o.participantId,
        o.side,
        o.energyWh,
        o.price,
        o.zone,
        seq,
        o.partners === null ? null : JSON.stringify(o.partners),
        o.greenOnly ? 1 : 0,
        o.createdAt,
      );
    return getOrder(ledger, o.id)!;
  });
}

export function getOrder(ledger: Ledger, id: string): OrderRow | undefined {
  const r = ledger.db.prepare(`SELECT ${COLUMNS} FROM orders WHERE id = ?`).get(id) as RawOrder | undefined;
  return r ? fromRaw(r) : undefined;
}

/** Marks an open order cancelled. Returns false when it was not open (already cancelled, closed, replaced). */
export function cancelOrder(ledger: Ledger, id: string): boolean {
  return (
    ledger.db.prepare(`UPDATE orders SET status = 'cancelled' WHERE id = ? AND status = 'open'`).run(id).changes === 1
  );
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
  const where = whereOf([
    ['participant_id = ?', f.participantId],
    ['interval_start = ?', f.intervalStart],
    ['interval_start >= ?', f.from],
    ['interval_start < ?', f.to],
    ['status = ?', f.status],
    ['source = ?', f.source],
  ]);
  const sql = `SELECT ${COLUMNS} FROM orders ${where.sql} ORDER BY interval_start DESC, seq DESC LIMIT ?`;
  return (ledger.db.prepare(sql).all(...where.args, f.limit ?? 1000) as RawOrder[]).map(fromRaw);
}

/** Updates a participant's standing price policy (the household's own prices). */
export function setPolicy(
  ledger: Ledger,
  participantId: string,
  policy: { minSellPrice: string | null; maxBuyPrice: string | null },
  now: number,
): boolean {
  return (
    ledger.db
      .prepare('UPDATE participants SET min_sell_price = ?, max_buy_price = ?, updated_at = ? WHERE id = ?')
      .run(policy.minSellPrice, policy.maxBuyPrice, now, participantId).changes === 1
  );
}

/** Marks open orders rejected with their reasons (gate closure's exclusions); returns how many changed. */
export function rejectOrders(ledger: Ledger, rejections: readonly { id: string; reason: string }[]): number {
  const stmt = ledger.db.prepare(
    `UPDATE orders SET status = 'rejected', rejected_reason = ? WHERE id = ? AND status = 'open'`,
  );
  let n = 0;
  ledger.tx(() => {
    for (const r of rejections) n += stmt.run(r.reason, r.id).changes;
  });
  return n;
}

export interface BookOrderRow {
  side: 'bid' | 'offer';
  price: string;
  energyWh: number;
  participant: string;
}

/** The orders that made (or will make) an interval's book: open or closed, not cancelled or replaced. */
export function bookOrders(ledger: Ledger, start: number, source: 'forward' | 'metered'): BookOrderRow[] {
  return ledger.db
    .prepare(
      `SELECT side, price, energy_wh AS energyWh, participant_id AS participant FROM orders WHERE interval_start = ? AND source = ? AND status IN ('open', 'closed')`,
    )
    .all(start, source) as BookOrderRow[];
}

/** An order as the engine and the audit take it: what clearing reads, with its source and status. */
export interface IntervalOrderRow {
  id: string;
  participant: string;
  side: Side;
  energyWh: number;
  price: string;
  zone: string;
  seq: number;
  source: OrderRow['source'];
  status: OrderRow['status'];
  partners: string[] | null;
  greenOnly: boolean;
}

type RawIntervalOrder = Omit<IntervalOrderRow, 'partners' | 'greenOnly'> & {
  partners: string | null;
  greenOnly: number;
};

const fromRawIntervalOrder = (r: RawIntervalOrder): IntervalOrderRow => ({
  ...r,
  partners: r.partners === null ? null : (JSON.parse(r.partners) as string[]),
  greenOnly: r.greenOnly === 1,
});

/** The open forward orders of an interval in submission order: what its live book is rebuilt from. */
export function listOpenForwardOrders(ledger: Ledger, start: number): IntervalOrderRow[] {
  return (
    ledger.db
      .prepare(
        `SELECT id, participant_id AS participant, side, energy_wh AS energyWh, price, zone, seq, source, status, partners, green_only AS greenOnly
         FROM orders WHERE interval_start = ? AND source = 'forward' AND status = 'open' ORDER BY seq`,
      )
      .all(start) as RawIntervalOrder[]
  ).map(fromRawIntervalOrder);
}

/** The intervals starting after `after` that have open forward orders, oldest first (the live books to rebuild). */
export function openForwardIntervals(ledger: Ledger, after: number): number[] {
  return (
    ledger.db
      .prepare(
        `SELECT DISTINCT interval_start AS s FROM orders WHERE interval_start > ? AND source = 'forward' AND status = 'open' ORDER BY s`,
      )
      .all(after) as { s: number }[]
  ).map((r) => r.s);
}

/** Every order of an interval, whatever its status, by source and seq (the audit's evidence). */
export function listIntervalOrders(ledger: Ledger, start: number): IntervalOrderRow[] {
  return (
    prepared(
      ledger,
      `SELECT id, participant_id AS participant, side, energy_wh AS energyWh, price, zone, seq, source, status, partners, green_only AS greenOnly
       FROM orders WHERE interval_start = ? ORDER BY source, seq, id`,
    ).all(start) as RawIntervalOrder[]
  ).map(fromRawIntervalOrder);
}

/** Closes the interval's open forward orders at gate closure; returns how many. */
export function closeForwardOrders(ledger: Ledger, start: number): number {
  return ledger.db
    .prepare("UPDATE orders SET status = 'closed' WHERE interval_start = ? AND source = 'forward' AND status = 'open'")
    .run(start).changes;
}

/**
 * Stores the metered orders of an interval (closed: they are cleared at once), so an auditor can re-run the clearing.
 * Their ids are made from the interval and the participant, so an order already stored under its id is kept, not
 * doubled.
 */
export function insertMeteredOrders(
  ledger: Ledger,
  start: number,
  orders: readonly Pick<OrderInput, 'id' | 'participant' | 'side' | 'energyWh' | 'price' | 'zone' | 'seq'>[],
  now: number,
): void {
  const insert = ledger.db.prepare(
    `INSERT OR IGNORE INTO orders (id, interval_start, participant_id, side, energy_wh, price, zone, seq, source, status, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'metered', 'closed', ?)`,
  );
  for (const o of orders) insert.run(o.id, start, o.participant, o.side, o.energyWh, o.price, o.zone, o.seq, now);
}
