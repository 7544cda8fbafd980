import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toCsv } from '../../../dashboard/csv.js';

// Issue 13, item 8: a cell a spreadsheet would run as a formula is quote-prefixed; numbers stay numbers.
const cellOf = (v: unknown): string => toCsv([{ a: v }], ['a']).split('\r\n')[1]!;

test('formula cells are prefixed with a quote, whatever they start with', () => {
  const hostile = [
    "-1+cmd|' /C calc'!A0",
    '-2+3',
    '-1e3+1',
    '=1+1',
    '+1+1',
    '@SUM(A1)',
    '\tcmd',
    '\rcmd',
    '=HYPERLINK("http://x","y")',
    '-',
    '--1',
    '-0x1',
  ];
  for (const v of hostile) {
    const c = cellOf(v);
    const unquoted = c.startsWith('"') ? c.slice(1, -1).replace(/""/g, '"') : c;
    assert.ok(unquoted.startsWith("'"), `${JSON.stringify(v)} → ${JSON.stringify(c)}`);
  }
});

test('plain numbers and decimal prices are left as they are, negative ones too', () => {
  for (const v of ['-0.06', '-14', '0.1500', '1200', '-1.5', -3, 0.25, '2026-11-21T12:00:00Z', 'h01'])
    assert.equal(cellOf(v), String(v));
});
