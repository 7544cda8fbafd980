import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Spool } from '../../meter-bridge/sinks/spool.js';
import { tempDir } from '../helpers/tmp.js';

test('the spool keeps batches in order across a restart and stays within its byte bound, dropping the oldest', () => {
  const dir = join(tempDir('mgx-spool-'), 's');
  const line = (i: number): string => `meter_reading,meter=m power_w=${i} ${1_700_000_000_000 + i}`;
  const a = new Spool(dir, 200);
  a.push([line(1), line(2)]);
  a.push([line(3)]);
  assert.equal(a.size, 2);
  // A restart: a new Spool on the same folder sees the same batches, in order.
  const b = new Spool(dir, 200);
  assert.deepEqual(b.peek()!.lines, [line(1), line(2)]);
  b.ack(b.peek()!.name);
  assert.deepEqual(b.peek()!.lines, [line(3)]);
  // Over the bound: the oldest batches go, counted and logged; the newest stays.
  for (let i = 4; i < 10; i++) b.push([line(i)]);
  assert.ok(b.bytes <= 200, `spool holds ${b.bytes} bytes`);
  assert.ok(b.droppedLines > 0);
  const kept: string[] = [];
  for (let n = b.peek(); n; n = b.peek()) {
    kept.push(...n.lines);
    b.ack(n.name);
  }
  assert.equal(kept.at(-1), line(9));
  assert.deepEqual(
    kept,
    [...kept].sort((x, y) => Number(x.split(' ')[2]) - Number(y.split(' ')[2])),
    'order kept',
  );
  assert.equal(kept.length + b.droppedLines, 7);
  assert.match(
    readFileSync(join(dir, 'dropped.log'), 'utf8'),
    /dropped 0000000000\d\d\.lp \(1 lines\): spool over 200 bytes/,
  );
});
