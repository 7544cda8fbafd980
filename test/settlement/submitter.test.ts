import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Address } from 'viem';
import { tempDir } from '../helpers/tmp.js';
import type { clientsFor } from '../contracts/chain.js';
import { Submitter } from '../../settlement/submitter.js';
import { EventBus, type SettlementStateEvent } from '../../core/events.js';
import { journalForInterval } from '../../ledger/journal.js';
import { getSettlementCredits } from '../../ledger/statements.js';
import { advanceInterval, getInterval } from '../../ledger/intervals.js';
import { assertMintedExactlyOnce, SETTLER_KEY, settledLedger, settleMore, intervalAt, suiteChain } from './fixture.js';

describe('Submitter against anvil', () => {
  let address: Address;
  let clients: ReturnType<typeof clientsFor>;
  let rpcUrl: string;
  suiteChain((c) => ({ address, clients, rpcUrl } = c));

  it('commits and mints queued intervals in order, journals every step, emits events, and is idempotent', async () => {
    const { ledger, starts } = settledLedger(tempDir(), 3, 30);
    const events: SettlementStateEvent[] = [];
    const bus = new EventBus();
    bus.on('settlement-state', (e) => events.push(e));
    // a tiny gas fraction forces several chunks per interval
    const sub = new Submitter({
      ledger,
      rpcUrl,
      chainId: 31337,
      privateKey: SETTLER_KEY,
      contract: address,
      events: bus,
      gasFraction: 0.01,
      pollMs: 20,
    });
    await sub.drain(60_000);
    await assertMintedExactlyOnce(clients, address, ledger, starts);
    for (const s of starts) {
      assert.equal(getSettlementCredits(ledger, s)!.status, 'final');
      const rows = journalForInterval(ledger, s);
      assert.ok(
        rows.length >= 3,
        `commit + at least two chunks: ${JSON.stringify(rows.map((r) => [r.action, r.chunk, r.state, r.error]))} credits ${getSettlementCredits(ledger, s)!.credits.length}`,
      );
      assert.ok(rows.every((r) => r.state === 'final' && r.txHash && r.rawTx && r.nonce !== null));
    }
    // nonces strictly increasing in interval order: order kept
    const nonces = starts.flatMap((s) => journalForInterval(ledger, s).map((r) => r.nonce!));
    assert.deepEqual(
      nonces,
      [...nonces].sort((a, b) => a - b),
    );
    const commits = await clients.public.getContractEvents({
      address,
      abi: (await import('../contracts/chain.js')).abi,
      eventName: 'Committed',
      fromBlock: 0n,
    });
    const committed = commits
      .map((e) => Number((e.args as { interval: bigint }).interval) * 1000)
      .filter((t) => starts.includes(t));
    assert.deepEqual(committed, starts, 'committed on chain in interval order');
    assert.ok(
      events.some(
        (e) => e.state === 'final' && e.interval === new Date(starts[0]!).toISOString().replace('.000Z', 'Z'),
      ),
    );
    // a second run finds nothing to do and sends nothing
    const before = await clients.public.getTransactionCount({ address: sub.address });
    await sub.drain(10_000);
    assert.equal(await clients.public.getTransactionCount({ address: sub.address }), before);
    ledger.close();
  });

  it('moves the interval lifecycle settled → committed → final', async () => {
    const { ledger } = settledLedger(tempDir(), 0, 5);
    const start = intervalAt(40);
    for (const s of ['open', 'closed', 'cleared', 'delivered'] as const) advanceInterval(ledger, start, s, 1);
    // seed and settle through the normal path
    advanceInterval(ledger, start, 'metered', 1, () => {});
    const { seedInterval } = await import('../../settlement/bench/scenario.js');
    const { settleInterval } = await import('../../settlement/settle.js');
    seedInterval(ledger, start, { households: 6, seed: 40 });
    settleInterval(ledger, start, {
      market: { feedInTariff: '0.0800', retailTariff: '0.3000' },
      microgrid: { currencyMinorUnits: 2 },
    });
    assert.equal(getInterval(ledger, start)?.state, 'settled');
    const sub = new Submitter({
      ledger,
      rpcUrl,
      chainId: 31337,
      privateKey: SETTLER_KEY,
      contract: address,
      pollMs: 20,
    });
    await sub.drain(30_000);
    assert.equal(getInterval(ledger, start)?.state, 'final');
    await assertMintedExactlyOnce(clients, address, ledger, [start]);
    ledger.close();
  });

  it('refuses an RPC that serves another chain id', async () => {
    const { ledger } = settledLedger(tempDir(), 1, 3, 60);
    const sub = new Submitter({ ledger, rpcUrl, chainId: 246, privateKey: SETTLER_KEY, contract: address });
    await assert.rejects(sub.drain(5_000), (e: Error & { code?: string }) => e.code === 'CHAIN_CONFIG');
    ledger.close();
  });

  it('run() settles intervals enqueued while it runs, then stop() ends it', async () => {
    const { ledger } = settledLedger(tempDir(), 1, 4, 80);
    const sub = new Submitter({
      ledger,
      rpcUrl,
      chainId: 31337,
      privateKey: SETTLER_KEY,
      contract: address,
      pollMs: 20,
    });
    const loop = sub.run();
    const more = settleMore(ledger, [81, 82], 4);
    sub.enqueue(more[0]);
    const deadline = Date.now() + 30_000;
    while (
      [intervalAt(80), ...more].some((s) => getSettlementCredits(ledger, s)!.status !== 'final') &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 50));
    await sub.stop();
    await loop;
    await assertMintedExactlyOnce(clients, address, ledger, [intervalAt(80), ...more]);
    ledger.close();
  });
});

describe('a stuck transaction', () => {
  let address: Address;
  let clients: ReturnType<typeof clientsFor>;
  let rpcUrl: string;
  suiteChain((c) => ({ address, clients, rpcUrl } = c));

  it('is replaced by the same nonce with raised fees, and exactly one of the two is mined', async () => {
    const { ledger, starts } = settledLedger(tempDir(), 1, 10, 400);
    const start = starts[0]!;
    const sub = new Submitter({
      ledger,
      rpcUrl,
      chainId: 31337,
      privateKey: SETTLER_KEY,
      contract: address,
      pollMs: 20,
      stuckAfterMs: 300,
    });
    await clients.test.setAutomine(false);
    try {
      // the commit goes out and sits in the pool: nothing mines it
      for (let i = 0; i < 5; i++) await sub.step();
      const first = journalForInterval(ledger, start).find((r) => r.action === 'commit')!;
      assert.equal(first.state, 'broadcast');
      await new Promise((r) => setTimeout(r, 400));
      await sub.step(); // stuck for longer than stuckAfterMs: replaced (signed and stored)
      await sub.step(); // the replacement is sent
      const commits = journalForInterval(ledger, start).filter((r) => r.action === 'commit');
      assert.deepEqual(
        commits.map((r) => r.state),
        ['replaced', 'broadcast'],
      );
      assert.equal(commits[1]!.nonce, commits[0]!.nonce, 'same nonce');
      assert.notEqual(commits[1]!.txHash, commits[0]!.txHash);
      const replacement = await clients.public.getTransaction({ hash: commits[1]!.txHash! });
      const { parseTransaction } = await import('viem');
      const original = parseTransaction(commits[0]!.rawTx!);
      assert.ok(replacement.maxFeePerGas! >= (original.maxFeePerGas! * 125n) / 100n, 'fees raised by 25 %');
      assert.ok(replacement.maxPriorityFeePerGas! >= (original.maxPriorityFeePerGas! * 125n) / 100n);
    } finally {
      await clients.test.setAutomine(true);
    }
    await sub.drain(30_000);
    await assertMintedExactlyOnce(clients, address, ledger, [start]);
    const commits = journalForInterval(ledger, start).filter((r) => r.action === 'commit');
    assert.equal(commits.filter((r) => r.state === 'final').length, 1);
    ledger.close();
  });
});
