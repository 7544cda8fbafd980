import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { openLedger } from '../../ledger/ledger.js';
import { MIGRATIONS } from '../../ledger/migrations/index.js';
import { upsertParticipant, listParticipants, listMeters } from '../../ledger/participants.js';
import { advanceInterval, getInterval, countIntervalsByState } from '../../ledger/intervals.js';
import { saveClearing, getClearing } from '../../ledger/clearing.js';
import { MicrogridError } from '../../core/errors.js';
import type { ClearingResult } from '../../core/market.js';
import { tempDir } from '../helpers/tmp.js';

const TABLES = [
  'participants',
  'meters',
  'readings',
  'intervals',
  'interval_energy',
  'orders',
  'clearing_results',
  'trades',
  'statements',
  'settlement_journal',
  'kv',
];

test('migrations run from empty, create every table, and are not re-run on reopen', () => {
  const path = join(tempDir(), 'ledger.sqlite');
  const l = openLedger(path);
  const tables = (l.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
    (r) => r.name,
  );
  for (const t of TABLES) assert.ok(tables.includes(t), `table ${t}`);
  assert.deepEqual(
    l.appliedMigrations(),
    MIGRATIONS.map((m) => m.id),
  );
  assert.equal(l.db.pragma('journal_mode', { simple: true }), 'wal');
  l.setKv('contract', '0xabc');
  l.close();
  const again = openLedger(path);
  assert.deepEqual(
    again.appliedMigrations(),
    MIGRATIONS.map((m) => m.id),
  );
  assert.equal(again.getKv('contract'), '0xabc');
  again.close();
});

test('a new migration is applied once; a failing one leaves the ledger as it was', () => {
  const path = join(tempDir(), 'ledger.sqlite');
  openLedger(path).close();
  const extra = [...MIGRATIONS, { id: '9000_extra', sql: 'CREATE TABLE extra (x INTEGER) STRICT;' }];
  const l = openLedger(path, { migrations: extra });
  assert.ok(l.appliedMigrations().includes('9000_extra'));
  l.close();
  const broken = [...extra, { id: '9001_broken', sql: 'CREATE TABLE half (x INTEGER) STRICT; THIS IS NOT SQL;' }];
  assert.throws(
    () => openLedger(path, { migrations: broken }),
    (e: unknown) => e instanceof MicrogridError && e.code === 'LEDGER_OPEN',
  );
  const after = openLedger(path, { migrations: extra });
  assert.equal(
    after.db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'half'").get() !== undefined,
    true,
  );
  assert.equal(
    (after.db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'half'").get() as { n: number }).n,
    0,
  );
  assert.ok(!after.appliedMigrations().includes('9001_broken'));
  after.close();
});

test('a ledger in an unwritable place is a LEDGER_OPEN error naming the path', () => {
  const file = join(tempDir(), 'not-a-folder');
  writeFileSync(file, 'x');
  const path = join(file, 'ledger.sqlite');
  assert.throws(
    () => openLedger(path),
    (e: unknown) => e instanceof MicrogridError && e.code === 'LEDGER_OPEN' && e.message.includes(path),
  );
});

test('participants and meters are stored together', () => {
  const l = openLedger(join(tempDir(), 'l.sqlite'));
  upsertParticipant(
    l,
    {
      id: 'h01',
      name: 'One',
      zone: 'north',
      meters: [{ id: 'h01-grid', role: 'grid' }],
      policy: { minSellPrice: '0.1000' },
    },
    1,
  );
  upsertParticipant(
    l,
    {
      id: 'h01',
      name: 'One renamed',
      zone: 'north',
      meters: [
        { id: 'h01-grid', role: 'grid' },
        { id: 'h01-pv', role: 'pv' },
      ],
      policy: {},
    },
    2,
  );
  assert.deepEqual(listParticipants(l), [
    { id: 'h01', name: 'One renamed', zone: 'north', account: null, minSellPrice: null, maxBuyPrice: null },
  ]);
  assert.deepEqual(
    listMeters(l, 'h01').map((m) => m.id),
    ['h01-grid', 'h01-pv'],
  );
  l.close();
});

test("standing prices set through the API survive a restart unless the config's policy changed", () => {
  const l = openLedger(join(tempDir(), 'l.sqlite'));
  const cfg = {
    id: 'h01',
    name: 'One',
    zone: 'north',
    meters: [],
    policy: { minSellPrice: '0.1000', maxBuyPrice: '0.2500' },
  };
  upsertParticipant(l, cfg, 1);
  l.db.prepare("UPDATE participants SET min_sell_price = '0.1500' WHERE id = 'h01'").run(); // the household's edit
  upsertParticipant(l, cfg, 2); // restart, same config
  assert.equal(listParticipants(l)[0]?.minSellPrice, '0.1500');
  upsertParticipant(l, { ...cfg, policy: { minSellPrice: '0.1100', maxBuyPrice: '0.2500' } }, 3); // the operator edits the file
  assert.equal(listParticipants(l)[0]?.minSellPrice, '0.1100');
  l.close();
});

test('intervals move forward one state at a time; replays are no-ops; skips are refused', () => {
  const l = openLedger(join(tempDir(), 'l.sqlite'));
  const s = Date.parse('2026-11-21T19:30:00Z');
  assert.equal(advanceInterval(l, s, 'open', 1), true);
  assert.equal(advanceInterval(l, s, 'open', 2), false);
  assert.equal(advanceInterval(l, s, 'closed', 3), true);
  assert.throws(
    () => advanceInterval(l, s, 'settled', 4),
    (e: unknown) =>
      e instanceof MicrogridError && e.code === 'INTERVAL_STATE' && /from closed to settled/.test(e.message),
  );
  assert.throws(() => advanceInterval(l, s, 'open', 5), /from closed to open/);
  // effects that throw leave the state where it was
  assert.throws(
    () =>
      advanceInterval(l, s, 'cleared', 6, () => {
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.equal(getInterval(l, s)?.state, 'closed');
  assert.deepEqual(countIntervalsByState(l), { closed: 1 });
  l.close();
});

const result = (price: string): ClearingResult => ({
  interval: '2026-11-21T19:30:00Z',
  kind: 'forward',
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
  matchedWh: 100,
  surplus: '0.0010',
  trades: [{ buyOrder: 'b1', sellOrder: 's1', buyer: 'h02', seller: 'h01', energyWh: 100, price, fee: '0.0000' }],
  remainders: [],
});

test('a clearing result is stored once: the same again is a no-op, a different one is refused', () => {
  const l = openLedger(join(tempDir(), 'l.sqlite'));
  assert.equal(saveClearing(l, result('0.1500'), 1), 'saved');
  assert.equal(saveClearing(l, result('0.1500'), 2), 'unchanged');
  assert.throws(
    () => saveClearing(l, result('0.1600'), 3),
    (e: unknown) => e instanceof MicrogridError && e.code === 'LEDGER_CONFLICT',
  );
  assert.deepEqual(getClearing(l, Date.parse('2026-11-21T19:30:00Z'), 'forward'), result('0.1500'));
  assert.equal((l.db.prepare('SELECT COUNT(*) AS n FROM trades').get() as { n: number }).n, 1);
  l.close();
});
