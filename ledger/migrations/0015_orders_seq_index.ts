/**
 * An index on orders.seq: every forward order draws the next submission sequence as `MAX(seq) + 1` inside its
 * insert's transaction (ledger/orders.ts insertForwardOrder), which without it scans the whole orders table — each
 * POST /api/orders cost grew with every order ever stored (about 1.7 ms per order at 10,000 stored, measured with
 * app/bench/gate-closure.ts at load ~13).
 */
export const sql = `
CREATE INDEX orders_seq ON orders(seq);
`;
