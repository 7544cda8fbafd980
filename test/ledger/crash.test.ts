import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLedger } from '../../ledger/ledger.js';
import { tempDir } from '../helpers/tmp.js';

const WRITER = fileURLToPath(new URL('../fixtures/ledger-writer.ts', import.meta.url));

function startWriter(
  path: string,
  mode: 'stall' | 'stream',
): { waitFor: (s: string) => Promise<void>; kill: () => Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    waitFor: (s) =>
      new Promise((resolve, reject) => {
        const check = (): void => void (out.includes(s) && resolve());
        child.stdout.on('data', (d: Buffer) => ((out += d.toString()), check()));
        // eslint-disable-next-line @typescript-eslint/no-floating-promises -- exited only resolves
        void exited.then(() => reject(new Error(`writer exited before printing ${s}`)));
        check();
      }),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function counts(path: string): { results: number; trades: number; perResult: number[] } {
  const l = openLedger(path);
  try {
    const results = (l.db.prepare('SELECT COUNT(*) AS n FROM clearing_results').get() as { n: number }).n;
    const trades = (l.db.prepare('SELECT COUNT(*) AS n FROM trades').get() as { n: number }).n;
    const perResult = (
      l.db
        .prepare(
          'SELECT COUNT(t.seq) AS n FROM clearing_results c LEFT JOIN trades t USING (interval_start, kind) GROUP BY c.interval_start',
        )
        .all() as { n: number }[]
    ).map((r) => r.n);
    return { results, trades, perResult };
  } finally {
    l.close();
  }
}

test('a transaction killed half-way (SIGKILL) leaves no partial rows, and the ledger reopens', async () => {
  const path = join(tempDir(), 'ledger.sqlite');
  const w = startWriter(path, 'stall');
  await w.waitFor('MID');
  await w.kill();
  const c = counts(path);
  assert.equal(c.results, 1, 'only the committed interval is there');
  assert.equal(c.trades, 200, 'none of the half-written trades survived');
  const l = openLedger(path);
  assert.equal(l.db.pragma('integrity_check', { simple: true }), 'ok');
  l.close();
});

test('killed at random moments while committing, every stored result has all its trades', async () => {
  const path = join(tempDir(), 'ledger.sqlite');
  let last = 0;
  for (let trial = 0; trial < 5; trial++) {
    const w = startWriter(path, 'stream');
    await w.waitFor('STARTED');
    await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 150)));
    await w.kill();
    const c = counts(path);
    assert.ok(c.results >= last, 'committed results are never lost');
    assert.ok(
      c.perResult.every((n) => n === 200),
      `each result has exactly its 200 trades (${c.perResult.filter((n) => n !== 200).join(',')})`,
    );
    last = c.results;
  }
});
