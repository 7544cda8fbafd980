import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Address } from 'viem';
import { tempDir } from '../helpers/tmp.js';
import type { clientsFor } from '../contracts/chain.js';
import { journalForInterval } from '../../ledger/journal.js';
import { openLedger } from '../../ledger/ledger.js';
import { SETTLEMENT_STATES } from '../../settlement/journal-machine.js';
import { assertMintedExactlyOnce, SETTLER_KEY, settledLedger, suiteChain } from './fixture.js';

const CHILD = fileURLToPath(new URL('./submitter-child.ts', import.meta.url));

function runChild(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, out });
    });
  });
}

describe('settlement survives SIGKILL at every journal state', () => {
  let address: Address;
  let clients: ReturnType<typeof clientsFor>;
  let rpcUrl: string;
  suiteChain((c) => ({ address, clients, rpcUrl } = c));

  for (const [i, state] of [...SETTLEMENT_STATES, 'sent'].entries()) {
    // the 2nd write of each state lands inside the first interval's mint chunks (the 1st is its commit)
    it(`killed after the 2nd "${state}" journal write, restarted: every interval minted exactly once on chain`, async () => {
      const { ledger, path, starts } = settledLedger(tempDir(), 2, 40, 100 + i * 10);
      ledger.close();
      const args = [path, rpcUrl, address, SETTLER_KEY];
      const crashed = await runChild(args, { CRASH_AT: state, CRASH_NTH: '2' });
      assert.equal(crashed.signal, 'SIGKILL', crashed.out);
      assert.match(crashed.out, new RegExp(`CRASH \\w+:\\d+:${state}`));
      const again = await runChild(args, {});
      assert.equal(again.code, 0, again.out);
      assert.match(again.out, /DRAINED/);
      const l = openLedger(path);
      await assertMintedExactlyOnce(clients, address, l, starts);
      // and the journal agrees: one final row per action
      for (const s of starts) {
        const live = journalForInterval(l, s).filter((r) => r.state === 'final');
        assert.equal(new Set(live.map((r) => `${r.action}:${r.chunk}`)).size, live.length);
      }
      l.close();
    });
  }

  it('killed right after a stuck transaction was "replaced" (fees raised, same nonce), restarted: minted exactly once', async () => {
    const { ledger, path, starts } = settledLedger(tempDir(), 1, 20, 170);
    ledger.close();
    const args = [path, rpcUrl, address, SETTLER_KEY];
    await clients.test.setAutomine(false);
    let crashed;
    try {
      crashed = await runChild(args, { CRASH_AT: 'replaced', STUCK_AFTER_MS: '300' });
    } finally {
      await clients.test.setAutomine(true);
    }
    assert.equal(crashed.signal, 'SIGKILL', crashed.out);
    assert.match(crashed.out, /CRASH commit:0:replaced/);
    const again = await runChild(args, {});
    assert.equal(again.code, 0, again.out);
    const l = openLedger(path);
    await assertMintedExactlyOnce(clients, address, l, starts);
    assert.ok(journalForInterval(l, starts[0]!).some((r) => r.state === 'replaced'));
    l.close();
  });

  it('a signed transaction whose nonce another transaction took ends "reverted" (killed there), is planned again and minted exactly once', async () => {
    const { ledger, path, starts } = settledLedger(tempDir(), 1, 20, 180);
    ledger.close();
    const args = [path, rpcUrl, address, SETTLER_KEY];
    const first = await runChild(args, { CRASH_AT: 'signed', CRASH_NTH: '1' });
    assert.match(first.out, /CRASH commit:0:signed/);
    // the same key spends that nonce elsewhere while the settlement process is down
    const wallet = clients.wallet(0);
    const hash = await wallet.sendTransaction({ to: wallet.account.address, value: 0n });
    await clients.public.waitForTransactionReceipt({ hash });
    const second = await runChild(args, { CRASH_AT: 'reverted', CRASH_NTH: '1' });
    assert.equal(second.signal, 'SIGKILL', second.out);
    assert.match(second.out, /CRASH commit:0:reverted/);
    const third = await runChild(args, {});
    assert.equal(third.code, 0, third.out);
    const l = openLedger(path);
    await assertMintedExactlyOnce(clients, address, l, starts);
    const commits = journalForInterval(l, starts[0]!).filter((r) => r.action === 'commit');
    assert.deepEqual(
      commits.map((r) => r.state),
      ['reverted', 'final'],
    );
    l.close();
  });
});
