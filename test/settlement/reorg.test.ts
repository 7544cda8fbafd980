import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Address } from 'viem';
import { tempDir } from '../helpers/tmp.js';
import type { clientsFor } from '../contracts/chain.js';
import { Submitter } from '../../settlement/submitter.js';
import { EventBus } from '../../core/events.js';
import { getSettlementCredits } from '../../ledger/statements.js';
import { journalForInterval } from '../../ledger/journal.js';
import { assertMintedExactlyOnce, SETTLER_KEY, settledLedger, suiteChain } from './fixture.js';

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a reorg after mining', () => {
  let address: Address;
  let clients: ReturnType<typeof clientsFor>;
  let rpcUrl: string;
  suiteChain((c) => ({ address, clients, rpcUrl } = c));

  for (const method of ['anvil_reorg', 'anvil_rollback'] as const) {
    it(`${method}: the mined rows go back, are sent again, and the interval is minted exactly once`, async () => {
      const { ledger, starts } = settledLedger(tempDir(), 1, 30, method === 'anvil_reorg' ? 300 : 310);
      const start = starts[0]!;
      const states: string[] = [];
      const bus = new EventBus();
      bus.on('settlement-state', (e) => states.push(e.state));
      const sub = new Submitter({
        ledger,
        rpcUrl,
        chainId: 31337,
        privateKey: SETTLER_KEY,
        contract: address,
        events: bus,
        pollMs: 20,
        gasFraction: 0.01,
        confirmations: 6,
      });
      // driven by hand, step by step: send everything up to mined; finality needs 6 blocks, which only come when the
      // test mines them
      await until(
        async () => {
          await sub.step();
          const rows = journalForInterval(ledger, start);
          return rows.length > 0 && rows.every((r) => r.state === 'mined');
        },
        20_000,
        'all rows mined',
      );
      const rows = journalForInterval(ledger, start);
      const head = await clients.public.getBlockNumber();
      const depth = Number(head) - Math.min(...rows.map((r) => r.blockNumber!)) + 1;
      const nonceBefore = await clients.public.getTransactionCount({ address: sub.address });
      if (method === 'anvil_reorg')
        await clients.test.request({ method: 'anvil_reorg' as never, params: [depth, []] as never });
      else await clients.test.request({ method: 'anvil_rollback' as never, params: [depth] as never });
      // the credits are gone from the chain now
      const gone = (await clients.public.readContract({
        address,
        abi: (await import('../contracts/chain.js')).abi,
        functionName: 'intervals',
        args: [BigInt(start / 1000)],
      })) as readonly bigint[];
      assert.equal(gone[1], 0n, 'the reorg removed the minting');
      assert.ok(
        (await clients.public.getTransactionCount({ address: sub.address })) < nonceBefore,
        'the reorg removed our transactions',
      );
      await until(
        async () => {
          await sub.step();
          await clients.test.mine({ blocks: 1 });
          return getSettlementCredits(ledger, start)!.status === 'final';
        },
        30_000,
        'final after the reorg',
      );
      assert.ok(
        states.some((s) => s.endsWith(':reorged')),
        `the submitter saw the reorg: ${states.join(' ')}`,
      );
      await assertMintedExactlyOnce(clients, address, ledger, [start]);
      ledger.close();
    });
  }

  it('a reorg between the commit and the first chunk: the commit is sent again before any chunk (no deadlock on NotCommitted)', async () => {
    const { ledger, starts } = settledLedger(tempDir(), 1, 20, 320);
    const start = starts[0]!;
    let paused = false;
    const sub = new Submitter({
      ledger,
      rpcUrl,
      chainId: 31337,
      privateKey: SETTLER_KEY,
      contract: address,
      pollMs: 20,
      // stop the step right after the commit is journalled as mined, before any chunk is signed
      onJournal: (row) => {
        if (!paused && row.action === 'commit' && row.state === 'mined') {
          paused = true;
          throw new Error('pause after commit mined');
        }
      },
    });
    await assert.rejects(sub.step(), /pause after commit mined/);
    const commit = journalForInterval(ledger, start).find((r) => r.action === 'commit')!;
    assert.equal(commit.state, 'mined');
    const head = await clients.public.getBlockNumber();
    await clients.test.request({
      method: 'anvil_rollback' as never,
      params: [Number(head) - commit.blockNumber! + 1] as never,
    });
    await sub.drain(20_000);
    await assertMintedExactlyOnce(clients, address, ledger, [start]);
    ledger.close();
  });
});
