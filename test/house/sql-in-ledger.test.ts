import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findSqlSites, sourceFiles } from './sql-sites.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test(
  'SQL lives only in ledger/: no .prepare( or .exec( on a database anywhere else (tests aside)',
  { timeout: 120_000 },
  () => {
    const sites = findSqlSites(root, sourceFiles(root));
    assert.deepEqual(
      sites.map((s) => `${s.at}  ${s.call}`),
      [],
      'SQL outside ledger/: give the statement a named function in the ledger module of its table, and call that',
    );
  },
);

test(
  'the check names a database call by file and line, and leaves regular expressions and device readers alone',
  { timeout: 120_000 },
  () => {
    // Placed in app/ so it resolves imports as a file there would; it exists only in memory.
    const file = join(root, 'app', 'sql-site-check-fixture.ts');
    const text = [
      "import type { Ledger } from '../ledger/ledger.js';",
      'export function f(ledger: Ledger, reader: { prepare(): Promise<void> }, line: string): unknown {',
      '  void reader.prepare();',
      '  const m = /^a(b)$/.exec(line);',
      "  ledger.db.exec('DELETE FROM kv');",
      '  const db: any = ledger.db;',
      '  db.prepare(`SELECT 1`).get();',
      '  return m ?? ledger.db',
      "    .prepare('SELECT value FROM kv')",
      '    .get();',
      '}',
    ].join('\n');
    const sites = findSqlSites(root, [], new Map([[file, text]]));
    assert.deepEqual(
      sites.map((s) => s.at),
      ['app/sql-site-check-fixture.ts:5', 'app/sql-site-check-fixture.ts:7', 'app/sql-site-check-fixture.ts:9'],
    );
  },
);
