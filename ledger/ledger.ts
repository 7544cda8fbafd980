import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MicrogridError } from '../core/errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

export type Db = Database.Database;

export interface OpenLedgerOptions {
  /** Open an existing ledger read-only (audits); migrations are then only checked. */
  readonly?: boolean;
  /** Override the list of migrations (tests). */
  migrations?: readonly Migration[];
}

/**
 * The embedded durable store. SQLite in WAL mode with synchronous=FULL: a
 * committed transaction survives a crash and a power cut, and an interrupted
 * one leaves nothing behind (SQLite's journal rolls it back on the next open).
 */
export class Ledger {
  readonly db: Db;
  readonly path: string;

  constructor(db: Db, path: string) {
    this.db = db;
    this.path = path;
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction: writes that belong together land
   * together or not at all. Nested calls join the outer transaction.
   */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** A small remembered fact (contract address, gateway address). */
  getKv(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setKv(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  appliedMigrations(): string[] {
    return (this.db.prepare('SELECT id FROM schema_migrations ORDER BY id').all() as { id: string }[]).map((r) => r.id);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function openLedger(path: string, opts: OpenLedgerOptions = {}): Ledger {
  let db: Db;
  try {
    if (!opts.readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (cause) {
    throw new MicrogridError('LEDGER_OPEN', `cannot open the ledger file (${(cause as Error).message})`, {
      field: 'ledger',
      value: path,
      expected: 'a writable path inside the data folder (--data-dir)',
      cause,
    });
  }
  try {
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // 64 MiB of page cache, not SQLite's 2 MiB: each interval re-reads every meter's last 45 minutes of readings
    // (10,000 households: ~20,000 pages), which a 2 MiB cache evicts before the next interval needs them. It grows
    // only as pages are read.
    db.pragma('cache_size = -65536');
    migrate(db, opts.migrations ?? MIGRATIONS, opts.readonly ?? false);
  } catch (cause) {
    db.close();
    if (cause instanceof MicrogridError) throw cause;
    throw new MicrogridError('LEDGER_OPEN', `cannot prepare the ledger (${(cause as Error).message})`, {
      field: 'ledger',
      value: path,
      cause,
    });
  }
  return new Ledger(db, path);
}

function migrate(db: Db, migrations: readonly Migration[], readonly: boolean): void {
  if (!readonly)
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT');
  const applied = new Set((db.prepare('SELECT id FROM schema_migrations').all() as { id: string }[]).map((r) => r.id));
  const pending = [...migrations].sort((a, b) => a.id.localeCompare(b.id)).filter((m) => !applied.has(m.id));
  if (readonly) {
    if (pending.length)
      throw new MicrogridError(
        'LEDGER_OPEN',
        `the ledger needs migrations ${pending.map((m) => m.id).join(', ')}; open it once read-write`,
      );
    return;
  }
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  for (const m of pending) {
    // PRAGMA foreign_keys is a no-op inside a transaction: it is switched around it.
    const fkWas = db.pragma('foreign_keys', { simple: true }) as number;
    if (m.foreignKeysOff) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(m.sql);
        if (m.foreignKeysOff) {
          const broken = db.pragma('foreign_key_check') as { table: string; parent: string }[];
          if (broken.length > 0)
            throw new Error(
              `migration ${m.id} leaves ${broken.length} row(s) whose foreign key names no row (first: ${broken[0]!.table} → ${broken[0]!.parent})`,
            );
        }
        record.run(m.id, Date.now());
      }).immediate();
    } finally {
      if (m.foreignKeysOff) db.pragma(`foreign_keys = ${fkWas ? 'ON' : 'OFF'}`);
    }
  }
}
