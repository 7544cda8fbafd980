import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Address } from 'viem';
import { tempDir } from '../helpers/tmp.js';
import { anvilWithCredits, abi, type clientsFor } from '../contracts/chain.js';
import { Submitter } from '../../settlement/submitter.js';
import { EventBus } from '../../core/events.js';
import { getSettlementCredits } from '../../ledger/statements.js';
import { assertMintedExactlyOnce, SETTLER_KEY, settledLedger, settleMore, intervalAt } from './fixture.js';
import { rpcRelay } from './proxy.js';

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('chain unreachable, then back', () => {
  let address: Address;
  let clients: ReturnType<typeof clientsFor>;
  let port: number;
  let stop = async () => {};
  before(async () => {
    const chain = await anvilWithCredits();
    ({ address, clients } = chain);
    port = chain.anvil.port;
    stop = () => chain.anvil.stop();
  });
  after(() => stop());

  it('queues intervals while the RPC port is closed and settles them in order when it opens: nothing lost, nothing doubled', async () => {
    const relay = await rpcRelay(port);
    const { ledger, starts: first } = settledLedger(tempDir(), 1, 20, 200);
    const states: string[] = [];
    const bus = new EventBus();
    bus.on('settlement-state', (e) => states.push(e.state));
    const sub = new Submitter({
      ledger,
      rpcUrl: relay.url,
      chainId: 31337,
      privateKey: SETTLER_KEY,
      contract: address,
      events: bus,
      pollMs: 20,
      gasFraction: 0.01,
    });
    const loop = sub.run();
    try {
      await until(() => getSettlementCredits(ledger, first[0]!)!.status === 'final', 20_000, 'the first interval');
      await relay.down();
      const queued = settleMore(ledger, [201, 202, 203], 20);
      for (const s of queued) sub.enqueue(s);
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(states.includes('chain-unavailable'), 'the outage is announced');
      assert.deepEqual(
        queued.map((s) => getSettlementCredits(ledger, s)!.status),
        ['queued', 'queued', 'queued'],
        'nothing settles while the chain is away',
      );
      await relay.up();
      await until(
        () => queued.every((s) => getSettlementCredits(ledger, s)!.status === 'final'),
        30_000,
        'the queued intervals',
      );
      assert.ok(states.includes('chain-available'));
      await assertMintedExactlyOnce(clients, address, ledger, [...first, ...queued]);
      const commits = await clients.public.getContractEvents({ address, abi, eventName: 'Committed', fromBlock: 0n });
      const order = commits
        .map((e) => Number((e.args as { interval: bigint }).interval) * 1000)
        .filter((t) => t >= intervalAt(200) && t <= intervalAt(203));
      assert.deepEqual(order, [...first, ...queued], 'committed in interval order');
    } finally {
      await sub.stop();
      await loop;
      await relay.close();
      ledger.close();
    }
  });

  it('an outage in the middle of an interval (between chunks) loses nothing and doubles nothing', async () => {
    const relay = await rpcRelay(port);
    const { ledger, starts } = settledLedger(tempDir(), 2, 40, 220);
    let cut = false;
    const sub = new Submitter({
      ledger,
      rpcUrl: relay.url,
      chainId: 31337,
      privateKey: SETTLER_KEY,
      contract: address,
      pollMs: 20,
      gasFraction: 0.01,
      // close the port right after the first mint chunk is sent
      onSent: (row) => {
        if (!cut && row.action === 'mint') {
          cut = true;
          // eslint-disable-next-line @typescript-eslint/no-floating-promises -- a relay that fails to move fails the file as an unhandled rejection
          void relay.down().then(() => setTimeout(() => void relay.up(), 800));
        }
      },
    });
    try {
      await sub.drain(30_000);
      assert.ok(cut);
      await assertMintedExactlyOnce(clients, address, ledger, starts);
    } finally {
      await relay.close();
      ledger.close();
    }
  });
});
