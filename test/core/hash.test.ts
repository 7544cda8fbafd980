import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnv1a } from '../../core/hash.js';

test('fnv1a is 32-bit FNV-1a, unsigned: the published test vectors', () => {
  assert.equal(fnv1a(''), 0x811c9dc5);
  assert.equal(fnv1a('a'), 0xe40c292c);
  assert.equal(fnv1a('foobar'), 0xbf9cf968);
});
