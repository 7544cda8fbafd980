import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Address } from 'viem';
import { tempDir } from '../helpers/tmp.js';
import { anvilWithCredits, type clientsFor } from '../contracts/chain.js';
import { journalForInterval } from '../../ledger/journal.js';
import { openLedger } from '../../ledger/ledger.js';
import { SETTLEMENT_STATES } from '../../settlement/submitter.js';
import { assertMintedExactlyOnce, SETTLER_KEY, settledLedger } from './fixture.js';

const CHILD = fileURLToPath(new URL('./submitter-child.ts', import.meta.url));

function runChild(args: string[], env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
  let stop = async () => {};
  before(async () => {
    const chain = await anvilWithCredits();
    ({ address, clients } = chain);
    rpcUrl = chain.anvil.rpcUrl;
    stop = () => chain.anvil.stop();
  });
  after(() => stop());

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
});
