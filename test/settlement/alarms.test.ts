import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Address } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { tempDir } from '../helpers/tmp.js';
import { Submitter } from '../../settlement/submitter.js';
import { ANVIL_KEYS } from '../../settlement/chain/accounts.js';
import { EventBus, type AlarmEvent } from '../../core/events.js';
import { ManualClock } from '../../core/clock.js';
import { toIso } from '../../core/interval.js';
import { raiseOperationalAlarms } from '../../app/alarms.js';
import { journalForInterval } from '../../ledger/journal.js';
import { JournalWrites } from '../../settlement/journal-writes.js';
import { StallWatch } from '../../settlement/stall.js';
import { SETTLER_KEY, settledLedger, suiteChain } from './fixture.js';

/** A loopback port nothing listens on (taken, then let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function alarmsOn(bus: EventBus, start: number): AlarmEvent[] {
  const alarms: AlarmEvent[] = [];
  bus.on('alarm', (a) => alarms.push(a));
  raiseOperationalAlarms(bus, new ManualClock(start));
  return alarms;
}

describe('settlement alarms carry their cause', () => {
  it('CHAIN_UNAVAILABLE names the RPC error', async () => {
    const { ledger, starts } = settledLedger(tempDir(), 1, 3, 500);
    const bus = new EventBus();
    const alarms = alarmsOn(bus, starts[0]!);
    const port = await closedPort();
    const sub = new Submitter({
      ledger,
      rpcUrl: `http://127.0.0.1:${port}`,
      chainId: 31337,
      privateKey: SETTLER_KEY,
      contract: privateKeyToAccount(SETTLER_KEY).address,
      events: bus,
    });
    await assert.rejects(sub.step(), (e: Error & { code?: string }) => e.code === 'CHAIN_UNAVAILABLE');
    const down = alarms.filter((a) => a.code === 'CHAIN_UNAVAILABLE');
    assert.equal(down.length, 1);
    assert.match(down[0]!.message, new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}`), down[0]!.message);
    ledger.close();
  });

  it('SETTLEMENT_STALLED says what the interval waits for', () => {
    const { ledger, starts } = settledLedger(tempDir(), 1, 3, 505);
    const bus = new EventBus();
    const alarms = alarmsOn(bus, starts[0]!);
    let now = 1_000_000;
    const watch = new StallWatch({
      ledger,
      journal: new JournalWrites({ ledger, chainId: 31337, now: () => now, events: bus }),
      now: () => now,
      stalledAfterMs: 60_000,
    });
    watch.check();
    now += 61_000;
    watch.check();
    const stalled = alarms.filter((a) => a.code === 'SETTLEMENT_STALLED');
    assert.equal(stalled.length, 1);
    assert.match(stalled[0]!.message, /\(not planned yet\)/, stalled[0]!.message);
    ledger.close();
  });

  describe('against anvil', () => {
    let address: Address;
    let rpcUrl: string;
    suiteChain((c) => ({ address, rpcUrl } = c));

    it('SETTLEMENT_FAILED names the revert, its arguments and the interval', async () => {
      const { ledger, starts } = settledLedger(tempDir(), 1, 3, 510);
      const bus = new EventBus();
      const alarms = alarmsOn(bus, starts[0]!);
      // a funded key the contract never granted the settler role: commit reverts in the simulation
      const stranger = ANVIL_KEYS[3]!;
      const sub = new Submitter({
        ledger,
        rpcUrl,
        chainId: 31337,
        privateKey: stranger,
        contract: address,
        events: bus,
        pollMs: 20,
      });
      const loop = sub.run();
      const deadline = Date.now() + 20_000;
      while (!alarms.some((a) => a.code === 'SETTLEMENT_FAILED') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 1000)); // the loop retries (20, 40, … 640 ms): the same cause raises no second alarm
      await sub.stop();
      await loop;
      const failures = alarms.filter((a) => a.code === 'SETTLEMENT_FAILED');
      assert.equal(failures.length, 1, 'raised once, not per retry');
      const failed = failures[0]!;
      assert.equal(failed.subject, toIso(starts[0]!));
      assert.match(
        failed.message,
        new RegExp(`AccessControlUnauthorizedAccount\\(${sub.address}, 0x[0-9a-f]{64}\\)`),
        failed.message,
      );
      const commit = journalForInterval(ledger, starts[0]!).find((r) => r.action === 'commit')!;
      assert.equal(commit.state, 'planned');
      assert.match(commit.error ?? '', /^AccessControlUnauthorizedAccount\(/);
      ledger.close();
    });
  });
});
