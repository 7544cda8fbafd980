import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openLedger } from '../../ledger/ledger.js';
import { MIGRATIONS } from '../../ledger/migrations/index.js';
import { getClearing, saveClearing } from '../../ledger/clearing.js';
import { MicrogridError } from '../../core/errors.js';
import type { ClearingResult, Trade } from '../../core/market.js';
import { tempDir } from '../helpers/tmp.js';

// 0016_clearing_results_rowid: the table that holds megabytes of canonical JSON per row is a rowid table, so the
// foreign key check of each trade row seeks a small index, not cells with the JSON in them.

const START = Date.parse('2026-06-21T12:00:00Z');
const trades: Trade[] = Array.from({ length: 2000 }, (_, i) => ({
  buyOrder: `m:1:h${i}:bid`,
  sellOrder: `m:1:s${i}:offer`,
  buyer: `h${i}`,
  seller: `s${i}`,
  energyWh: 100 + i,
  price: '0.1500',
  fee: '0.0000',
}));
const result = (kind: 'forward' | 'metered', price = '0.1500'): ClearingResult => ({
  interval: '2026-06-21T12:00:00Z',
  kind,
  rules: {
    mechanism: 'uniform',
    k: 0.5,
    priceTick: '0.0001',
    priceFloor: '0.0800',
    priceCap: '0.3000',
    zoneFees: [],
    zoneExportLimitsWh: {},
    ruleSetVersion: 'test',
  },
  clearingPrice: price,
  matchedWh: trades.reduce((s, t) => s + t.energyWh, 0),
  surplus: '0.0010',
  // Large enough that a row overflows its page many times over, as a metered result at 10,000 households does.
  trades: kind === 'metered' ? trades : [],
  remainders: [],
});
const rowsOf = (l: ReturnType<typeof openLedger>): { clearing: unknown[]; trades: unknown[] } => ({
  clearing: l.db.prepare('SELECT * FROM clearing_results ORDER BY interval_start, kind').raw(true).all(),
  trades: l.db.prepare('SELECT * FROM trades ORDER BY interval_start, kind, seq').raw(true).all(),
});
const before0016 = MIGRATIONS.filter((m) => m.id < '0016');

test('0016 rebuilds clearing_results as a rowid table: every row and byte kept, keys and references still enforced', () => {
  const path = join(tempDir(), 'ledger.sqlite');
  const old = openLedger(path, { migrations: before0016 });
  assert.match(
    (old.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'clearing_results'").get() as { sql: string }).sql,
    /WITHOUT ROWID/,
  );
  saveClearing(old, result('forward'), 1);
  saveClearing(old, result('metered'), 2);
  const stored = rowsOf(old);
  old.close();

  const l = openLedger(path);
  assert.equal(l.appliedMigrations().at(-1), '0016_clearing_results_rowid');
  assert.doesNotMatch(
    (l.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'clearing_results'").get() as { sql: string }).sql,
    /WITHOUT ROWID/,
  );
  assert.deepEqual(rowsOf(l), stored);
  assert.deepEqual(getClearing(l, START, 'metered'), result('metered'));
  assert.equal(l.db.pragma('foreign_keys', { simple: true }), 1);
  assert.deepEqual(l.db.pragma('foreign_key_check'), []);
  // The primary key and the trades' reference hold as before.
  assert.equal(saveClearing(l, result('metered'), 3), 'unchanged');
  assert.throws(
    () => saveClearing(l, result('metered', '0.1600'), 4),
    (e: unknown) => e instanceof MicrogridError && e.code === 'LEDGER_CONFLICT',
  );
  assert.throws(
    () =>
      l.db.exec(
        "INSERT INTO trades VALUES (1, 'metered', 0, 'b', 's', 'h1', 'h2', 5, '0.1500', '0.0000')", // no such result
      ),
    /FOREIGN KEY constraint failed/,
  );
  l.close();
});

test('a migration run with foreign keys off that leaves a broken reference is refused; the ledger stays as it was', () => {
  const path = join(tempDir(), 'ledger.sqlite');
  const l = openLedger(path);
  saveClearing(l, result('metered'), 1);
  const stored = rowsOf(l);
  l.close();
  const breaking = [...MIGRATIONS, { id: '9000_orphans', sql: 'DELETE FROM clearing_results;', foreignKeysOff: true }];
  assert.throws(
    () => openLedger(path, { migrations: breaking }),
    (e: unknown) =>
      e instanceof MicrogridError && e.code === 'LEDGER_OPEN' && /9000_orphans leaves 2000 row\(s\)/.test(e.message),
  );
  const after = openLedger(path);
  assert.deepEqual(rowsOf(after), stored);
  assert.ok(!after.appliedMigrations().includes('9000_orphans'));
  assert.equal(after.db.pragma('foreign_keys', { simple: true }), 1);
  after.close();
});
