import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoff, BACKOFF_CAP_MS } from '../../settlement/backoff.js';

describe('backoff', () => {
  it('doubles from the first wait up to the one cap, and starts over on reset', () => {
    const wait = backoff(200);
    assert.deepEqual(
      Array.from({ length: 7 }, () => wait.next()),
      [200, 400, 800, 1600, 3200, BACKOFF_CAP_MS, BACKOFF_CAP_MS],
    );
    wait.reset();
    assert.equal(wait.next(), 200);
  });
});
