import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { progressBar } from '../../audit/format.js';

const stream = (isTTY: boolean) => {
  const out: string[] = [];
  const s = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString());
      done();
    },
  });
  return { s: Object.assign(s, { isTTY }), out };
};

it('mgx audit draws a progress bar only on a terminal: redrawn in place at most every 100 ms, and complete with a newline at the end', () => {
  assert.equal(progressBar(stream(false).s), undefined); // a pipe or a file gets the report alone
  const { s, out } = stream(true);
  const bar = progressBar(s)!;
  bar(1, 4);
  bar(2, 4); // within 100 ms of the last draw: skipped
  bar(4, 4); // the end is always drawn
  assert.deepEqual(out, [
    `\r[${'#'.repeat(8)}${'.'.repeat(22)}] 1/4 intervals`,
    `\r[${'#'.repeat(30)}] 4/4 intervals\n`,
  ]);
});
