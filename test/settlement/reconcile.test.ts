import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Address, Hex } from 'viem';
import { tempDir } from '../helpers/tmp.js';
import { runMgx } from '../helpers/mgx-process.js';
import { abi, type clientsFor } from '../contracts/chain.js';
import { Submitter } from '../../settlement/submitter.js';
import { STALLED_KEY } from '../../settlement/stall.js';
import { EventBus, type AlarmEvent } from '../../core/events.js';
import { ManualClock } from '../../core/clock.js';
import { raiseOperationalAlarms } from '../../app/alarms.js';
import { getSettlementCredits } from '../../ledger/statements.js';
import { journalForInterval } from '../../ledger/journal.js';
import { toUnixSeconds } from '../../core/interval.js';
import { assertMintedExactlyOnce, SETTLER_KEY, settledLedger, settleMore, suiteChain } from './fixture.js';

/**
 * The submitter against a chain that is not the one it left: rolled back
 * below final rows (a node restored from a backup, `anvil_revert` to a
 * snapshot), rolled back while it runs, a transaction of ours queued behind a
 * nonce gap, and a chain that does not mine at all. The chain, not the
 * ledger, judges: balances, the contract's totals and its events.
 */

describe('reconciliation with the chain found', () => {
  let address: Address;
  let clients: ReturnType<typeof clientsFor>;
  let rpcUrl: string;
  suiteChain((c) => ({ address, clients, rpcUrl } = c));

  const submitter = (
    ledger: ReturnType<typeof settledLedger>['ledger'],
    extra: Partial<ConstructorParameters<typeof Submitter>[0]> = {},
  ) =>
    new Submitter({
      ledger,
      rpcUrl,
      chainId: 31337,
      privateKey: SETTLER_KEY,
      contract: address,
      pollMs: 20,
      gasFraction: 0.01,
      ...extra,
    });
  const snapshot = async () => (await clients.test.request({ method: 'evm_snapshot' as never })) as Hex;
  const revert = async (id: Hex) =>
    assert.equal(await clients.test.request({ method: 'evm_revert' as never, params: [id] as never }), true);
  const committedEvents = async (start: number) =>
    (
      await clients.public.getContractEvents({
        address,
        abi,
        eventName: 'Committed',
        args: { interval: BigInt(toUnixSeconds(start)) },
        fromBlock: 0n,
      })
    ).length;

  it('a chain reverted to a snapshot below two final intervals: the next start sends each row again, once', async () => {
    const { ledger, starts } = settledLedger(tempDir(), 2, 30, 400);
    const snap = await snapshot();
    await submitter(ledger).drain(30_000);
    await assertMintedExactlyOnce(clients, address, ledger, starts);
    await revert(snap);
    for (const s of starts) assert.equal(await committedEvents(s), 0, 'the revert took the commitments');
    assert.ok(
      starts.every((s) => getSettlementCredits(ledger, s)!.status === 'final'),
      'the ledger still says final',
    );

    const states: string[] = [];
    const bus = new EventBus();
    bus.on('settlement-state', (e) => states.push(e.state));
    await submitter(ledger, { events: bus }).drain(30_000); // a new start
    await assertMintedExactlyOnce(clients, address, ledger, starts);
    for (const s of starts) {
      assert.equal(await committedEvents(s), 1, 'committed once');
      const rows = journalForInterval(ledger, s);
      const lost = rows.filter((r) => r.state === 'reverted');
      const final = rows.filter((r) => r.state === 'final');
      assert.ok(
        lost.length > 0 && lost.every((r) => /not on chain any more/.test(r.error ?? '')),
        `the lost rows say why: ${JSON.stringify(lost.map((r) => r.error))}`,
      );
      assert.equal(final.length, lost.length, 'each lost row was sent again exactly once');
    }
    assert.ok(states.includes('reconciled') && states.some((s) => s.endsWith(':reorged')), states.join(' '));
    ledger.close();
  });

  it('rolled back below a final row while it runs: the missing receipt is noticed on the next pass and the row re-sent once', async () => {
    const { ledger, starts } = settledLedger(tempDir(), 1, 20, 410);
    const sub = submitter(ledger);
    const before = await clients.public.getBlockNumber();
    await sub.drain(30_000);
    const head = await clients.public.getBlockNumber();
    await clients.test.request({ method: 'anvil_rollback' as never, params: [Number(head - before)] as never });
    assert.equal(await committedEvents(starts[0]!), 0);
    const more = settleMore(ledger, [411], 20);
    await sub.drain(30_000);
    await assertMintedExactlyOnce(clients, address, ledger, [...starts, ...more]);
    assert.equal(await committedEvents(starts[0]!), 1);
    ledger.close();
  });

  it('a transaction queued behind a nonce gap (signed before a rollback, held by the node) is detected and the gap filled', async () => {
    const { ledger, starts } = settledLedger(tempDir(), 1, 20, 420);
    const snap = await snapshot();
    await submitter(ledger).drain(30_000);
    // a transaction of the settler that no journal row knows (another tool, a replacement) takes a nonce
    const extra = await clients.wallet(0).sendTransaction({ to: clients.wallet(0).account.address, value: 0n });
    await clients.public.waitForTransactionReceipt({ hash: extra });
    const [next] = settleMore(ledger, [421], 20);
    // the app signs the next commit and dies right after
    const crashing = submitter(ledger, {
      onJournal: (row) => {
        if (row.intervalStart === next && row.action === 'commit' && row.state === 'signed')
          throw new Error('killed after signing');
      },
    });
    await assert.rejects(crashing.drain(30_000), /killed after signing/);
    const signed = journalForInterval(ledger, next!).find((r) => r.action === 'commit' && r.state === 'signed')!;
    await revert(snap);
    // ... and the node got it before the crash: on the rolled-back chain it waits behind a gap
    await clients.test.request({ method: 'eth_sendRawTransaction' as never, params: [signed.rawTx] as never });
    const chainNonce = await clients.public.getTransactionCount({
      address: clients.wallet(0).account.address,
      blockTag: 'pending',
    });
    assert.ok(signed.nonce! > chainNonce, `a gap: signed with nonce ${signed.nonce}, the chain expects ${chainNonce}`);

    const states: string[] = [];
    const bus = new EventBus();
    bus.on('settlement-state', (e) => states.push(e.state));
    await submitter(ledger, { events: bus }).drain(30_000);
    await assertMintedExactlyOnce(clients, address, ledger, [...starts, next!]);
    assert.ok(states.includes('commit:0:gap-filled'), states.join(' '));
    const pool = (await clients.test.request({ method: 'txpool_status' as never })) as { pending: Hex; queued: Hex };
    assert.deepEqual([Number(pool.pending), Number(pool.queued)], [0, 0], 'nothing left waiting in the pool');
    ledger.close();
  });

  it('an interval waiting on a chain that does not mine raises SETTLEMENT_STALLED once, shown by mgx status, and resumes', async () => {
    const dir = tempDir();
    const { ledger, starts } = settledLedger(dir, 1, 10, 430, 'ledger.sqlite');
    const bus = new EventBus();
    const alarms: AlarmEvent[] = [];
    bus.on('alarm', (a) => alarms.push(a));
    raiseOperationalAlarms(bus, new ManualClock(starts[0]!));
    let now = 1_000_000;
    const sub = submitter(ledger, { events: bus, stalledAfterMs: 60_000, now: () => now });
    await clients.test.request({ method: 'evm_setAutomine' as never, params: [false] as never });
    try {
      await sub.step(); // planned, commit signed and sent; nothing mines
      await sub.step();
      assert.equal(alarms.filter((a) => a.code === 'SETTLEMENT_STALLED').length, 0, 'not yet');
      now += 61_000;
      await sub.step();
      await sub.step();
      assert.equal(alarms.filter((a) => a.code === 'SETTLEMENT_STALLED').length, 1, 'raised once, not per pass');
      const status = runMgx(['status', '--data-dir', dir, '--format', 'json']);
      assert.equal(status.status, 0, status.stderr);
      const report = JSON.parse(status.stdout) as { stalled: { interval: string; waiting: string } | null };
      assert.equal(report.stalled?.interval, new Date(starts[0]!).toISOString().replace('.000', ''));
      assert.match(report.stalled.waiting, /commit:0 broadcast nonce \d+/);
      assert.match(runMgx(['status', '--data-dir', dir]).stdout, /SETTLEMENT_STALLED/);
    } finally {
      await clients.test.request({ method: 'evm_setAutomine' as never, params: [true] as never });
    }
    await clients.test.mine({ blocks: 1 });
    await sub.drain(30_000);
    assert.deepEqual(
      alarms.map((a) => a.code).filter((c) => c.startsWith('SETTLEMENT_')),
      ['SETTLEMENT_STALLED', 'SETTLEMENT_RESUMED'],
    );
    assert.equal(ledger.getKv(STALLED_KEY), '');
    await assertMintedExactlyOnce(clients, address, ledger, starts);
    ledger.close();
  });
});
