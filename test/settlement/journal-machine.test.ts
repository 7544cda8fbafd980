import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JOURNAL_STATES } from '../../ledger/journal.js';
import { assertMove, canMove, JOURNAL_MOVES, SETTLEMENT_STATES } from '../../settlement/journal-machine.js';

describe('the journal machine', () => {
  it('has every journal state, the happy path as moves, and reverted as the end', () => {
    assert.deepEqual(Object.keys(JOURNAL_MOVES).sort(), [...JOURNAL_STATES].sort());
    for (let i = 1; i < SETTLEMENT_STATES.length; i++)
      assert.ok(canMove(SETTLEMENT_STATES[i - 1]!, SETTLEMENT_STATES[i]!));
    assert.deepEqual(JOURNAL_MOVES.reverted, []);
  });

  it('refuses a move it does not have with SETTLEMENT_INVARIANT, naming the move', () => {
    assert.throws(
      () => assertMove('final', 'signed'),
      (e: Error & { code?: string }) => e.code === 'SETTLEMENT_INVARIANT' && /final → signed/.test(e.message),
    );
    assert.throws(() => assertMove('reverted', 'planned'), /nothing \(it has ended\)/);
  });
});
