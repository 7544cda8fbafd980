import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openLedger } from '../../ledger/ledger.js';
import { validateConfig } from '../../core/config/validate.js';
import { marketClock } from '../../app/market-clock.js';
import { tempDir } from '../helpers/tmp.js';

test('a simulated clock continues across restarts instead of starting its day again', () => {
  const ledger = openLedger(join(tempDir(), 'l.sqlite'));
  const config = validateConfig({ clock: { speed: 60, startAt: '2026-06-21T08:00:00Z' } });
  const real0 = 1_000_000;
  const first = marketClock(ledger, config, 60, real0);
  assert.ok(Math.abs(first.now() - Date.parse('2026-06-21T08:00:00Z')) < 60 * 1000, 'starts at startAt');
  // restarted 10 real seconds later: 10 market minutes have passed (60 market s of slack for the test's own time)
  const second = marketClock(ledger, config, 60, real0 + 10_000);
  const drift = second.now() - Date.parse('2026-06-21T08:10:00Z');
  assert.ok(drift >= 0 && drift < 60_000, `continues at 08:10, drift ${drift} ms`);
  // a new speed re-anchors at the market time reached, never going back
  const third = marketClock(ledger, config, 1, real0 + 20_000);
  assert.ok(
    third.now() >= Date.parse('2026-06-21T08:20:00Z'),
    `re-anchored at 08:20 or later, got ${new Date(third.now()).toISOString()}`,
  );
  ledger.close();
});

test('at wall speed without startAt the market clock is wall time', () => {
  const ledger = openLedger(join(tempDir(), 'l.sqlite'));
  const clock = marketClock(ledger, validateConfig({}), 1);
  assert.ok(Math.abs(clock.now() - Date.now()) < 1000);
  assert.equal(ledger.getKv('clock.anchor'), undefined, 'nothing anchored');
  ledger.close();
});
