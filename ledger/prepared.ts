import type { Statement } from 'better-sqlite3';
import type { Db, Ledger } from './ledger.js';

const cache = new WeakMap<Db, Map<string, Statement>>();

/**
 * A statement prepared once per open database and kept for the next call with
 * the same SQL. For the paths that run the same few statements over and over
 * (evidence loading: seven statements per interval, thousands of intervals per
 * audit), where preparing each time would cost what the old per-loader
 * statements saved. Only for fixed SQL text: SQL built from a variable-length
 * list would fill the cache.
 */
export function prepared(ledger: Ledger, sql: string): Statement {
  let byText = cache.get(ledger.db);
  if (!byText) cache.set(ledger.db, (byText = new Map()));
  let stmt = byText.get(sql);
  if (!stmt) byText.set(sql, (stmt = ledger.db.prepare(sql)));
  return stmt;
}
