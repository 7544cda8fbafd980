import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPublicClient, http } from 'viem';
import { tempDir } from '../helpers/tmp.js';
import { startEmbeddedChain } from '../../settlement/chain/embedded.js';
import { deployOrLoad, deploymentFile } from '../../settlement/chain/deploy-or-load.js';
import { connectChain } from '../../settlement/chain/connect.js';
import { startAnvil } from '../../settlement/chain/anvil.js';
import { ANVIL_KEYS } from '../../settlement/chain/accounts.js';
import { isMicrogridError } from '../../core/errors.js';
import type { Hex } from 'viem';

const KEY = ANVIL_KEYS[0] as Hex;

it('starts anvil on a free loopback port, deploys once, remembers the address, and keeps it across a restart', async () => {
  const dataDir = tempDir();
  const chain = await startEmbeddedChain({ dataDir });
  let address: string;
  try {
    assert.match(chain.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const first = await deployOrLoad({ rpcUrl: chain.rpcUrl, chainId: 31337, privateKey: KEY, dataDir });
    assert.equal(first.deployed, true);
    address = first.address;
    const again = await deployOrLoad({ rpcUrl: chain.rpcUrl, chainId: 31337, privateKey: KEY, dataDir });
    assert.deepEqual([again.deployed, again.address], [false, address]);
    assert.equal(JSON.parse(readFileSync(deploymentFile(dataDir, 31337), 'utf8')).address, address);
  } finally {
    await chain.stop();
  }
  assert.ok(existsSync(`${dataDir}/chain/anvil-state.json`), 'state written on stop');
  const restarted = await startEmbeddedChain({ dataDir });
  try {
    const after = await deployOrLoad({ rpcUrl: restarted.rpcUrl, chainId: 31337, privateKey: KEY, dataDir });
    assert.deepEqual([after.deployed, after.address], [false, address], 'the contract survived the restart');
  } finally {
    await restarted.stop();
  }
});

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
const CHILD = fileURLToPath(new URL('./embedded-child.ts', import.meta.url));

/** An app (a child process) that started the embedded chain and deployed, then died by SIGKILL. */
async function appKilledAfterDeploy(dataDir: string): Promise<{ pid: number; rpcUrl: string; address: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ready = await new Promise<{ pid: number; rpcUrl: string; address: string }>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (.*)\n/.exec(out);
      if (m) resolve(JSON.parse(m[1]!) as { pid: number; rpcUrl: string; address: string });
    });
    child.once('exit', (code) => reject(new Error(`the app exited with ${code} before it was ready: ${out}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return ready;
}

it('after the app was killed, the next start attaches to the anvil it left running (its own session) and keeps every block', async () => {
  const dataDir = tempDir();
  const first = await appKilledAfterDeploy(dataDir);
  assert.ok(alive(first.pid), 'anvil outlived the app');
  const second = await startEmbeddedChain({ dataDir });
  try {
    assert.deepEqual(
      [second.attached, second.pid, second.rpcUrl],
      [true, first.pid, first.rpcUrl],
      'the same anvil serves the chain',
    );
    const again = await deployOrLoad({ rpcUrl: second.rpcUrl, chainId: 31337, privateKey: KEY, dataDir });
    assert.deepEqual(
      [again.deployed, again.address],
      [false, first.address],
      'the unpersisted deployment is still there',
    );
  } finally {
    await second.stop();
  }
  assert.ok(!alive(first.pid), 'stop() ends an attached anvil too');
});

it('an anvil left on the chain folder by an app killed before it wrote the pid file is stopped, its blocks kept (it leaked before)', async () => {
  const dataDir = tempDir();
  const first = await appKilledAfterDeploy(dataDir);
  // The app died between spawning anvil and writing anvil.pid: nothing on disk names the process.
  rmSync(`${dataDir}/chain/anvil.pid`);
  const second = await startEmbeddedChain({ dataDir });
  try {
    assert.equal(second.attached, false);
    assert.ok(!alive(first.pid), 'the anvil on the same chain folder was stopped');
    const again = await deployOrLoad({ rpcUrl: second.rpcUrl, chainId: 31337, privateKey: KEY, dataDir });
    assert.deepEqual(
      [again.deployed, again.address],
      [false, first.address],
      'its state was dumped before it was stopped, and loaded',
    );
  } finally {
    await second.stop();
  }
});

it('anvil SIGKILLed while the app runs is started again on the same port from the state persisted, losing no persisted block', async () => {
  const dataDir = tempDir();
  const chain = await startEmbeddedChain({ dataDir, superviseMs: 50 });
  try {
    const { address } = await deployOrLoad({ rpcUrl: chain.rpcUrl, chainId: 31337, privateKey: KEY, dataDir });
    await chain.persist();
    const client = createPublicClient({ cacheTime: 0, transport: http(chain.rpcUrl) });
    const head = await client.getBlockNumber();
    const killed = chain.pid;
    process.kill(killed, 'SIGKILL');
    while (chain.restarts === 0) await new Promise((r) => setTimeout(r, 50));
    assert.notEqual(chain.pid, killed);
    assert.equal(await client.getBlockNumber(), head, 'every persisted block is back');
    assert.ok(((await client.getCode({ address })) ?? '0x').length > 2, 'the contract is back');
  } finally {
    await chain.stop();
  }
});

it('with hardfork london, deploys the london build on a London EVM', async () => {
  const dataDir = tempDir();
  const conn = await connectChain(
    { chain: { hardfork: 'london', stuckAfterSeconds: 60, feeBumpPercent: 25, stalledAfterSeconds: 600 } },
    dataDir,
  );
  try {
    assert.equal(conn.embedded, true);
    const client = createPublicClient({ transport: http(conn.rpcUrl) });
    assert.ok(((await client.getCode({ address: conn.contract })) ?? '0x').length > 2);
    // London has no base-fee-less blocks and no PUSH0: the block says which fork we are on
    const block = await client.getBlock();
    assert.equal(block.withdrawalsRoot, undefined, 'no withdrawals before Shanghai');
  } finally {
    await conn.stop();
  }
});

it('uses a configured RPC with a key from the environment, and refuses a missing key or a wrong chain id', async () => {
  const external = await startAnvil();
  try {
    const dataDir = tempDir();
    const base = {
      rpcUrl: external.rpcUrl,
      chainId: 31337,
      stuckAfterSeconds: 60,
      feeBumpPercent: 25,
      stalledAfterSeconds: 600,
    };
    await assert.rejects(
      connectChain({ chain: base }, dataDir),
      (e) => isMicrogridError(e, 'CHAIN_CONFIG') && /chain\.privateKey/.test(e.message),
    );
    await assert.rejects(connectChain({ chain: { ...base, privateKey: { env: 'MGX_TEST_KEY' } } }, dataDir, {}), (e) =>
      isMicrogridError(e, 'SECRET_MISSING'),
    );
    await assert.rejects(
      connectChain({ chain: { ...base, chainId: 246, privateKey: { env: 'MGX_TEST_KEY' } } }, dataDir, {
        MGX_TEST_KEY: KEY,
      }),
      (e) => isMicrogridError(e, 'CHAIN_CONFIG') && /31337/.test(e.message),
    );
    const conn = await connectChain({ chain: { ...base, privateKey: { env: 'MGX_TEST_KEY' } } }, dataDir, {
      MGX_TEST_KEY: KEY,
    });
    assert.equal(conn.embedded, false);
    assert.equal(conn.rpcUrl, external.rpcUrl);
    assert.ok(existsSync(deploymentFile(dataDir, 31337)));
  } finally {
    await external.stop();
  }
});

it('end to end through the public API on the embedded London chain: settle, submit, credits on chain, retire', async () => {
  const { connectChain: connect, settleInterval, Submitter } = await import('../../settlement/index.js');
  const { openLedger } = await import('../../ledger/ledger.js');
  const { seedInterval } = await import('../../settlement/bench/scenario.js');
  const { clientsFor, abi } = await import('../contracts/chain.js');
  const { assertMintedExactlyOnce, CONFIG, T0 } = await import('./fixture.js');
  const dataDir = tempDir();
  const conn = await connect(
    { chain: { hardfork: 'london', stuckAfterSeconds: 60, feeBumpPercent: 25, stalledAfterSeconds: 600 } },
    dataDir,
  );
  const ledger = openLedger(`${dataDir}/ledger.sqlite`);
  try {
    seedInterval(ledger, T0, { households: 12, seed: 5 });
    // one buying household holds its own key: anvil account 1
    const clients = clientsFor(conn.rpcUrl);
    const holder = clients.wallet(1).account.address;
    const { getClearing } = await import('../../ledger/clearing.js');
    const buyer = getClearing(ledger, T0, 'metered')!.trades[0]!.buyer;
    ledger.db.prepare('UPDATE participants SET account = ? WHERE id = ?').run(holder, buyer);
    const { credits } = settleInterval(ledger, T0, CONFIG);
    const submitter = new Submitter({
      ledger,
      rpcUrl: conn.rpcUrl,
      chainId: conn.chainId,
      privateKey: conn.privateKey,
      contract: conn.contract,
      confirmations: conn.confirmations,
      pollMs: 20,
    });
    await submitter.drain(30_000);
    await assertMintedExactlyOnce(clients, conn.contract, ledger, [T0]);
    const mine = credits.find((c) => c.account === holder);
    assert.ok(mine && mine.wh > 0, 'the household with an account got credits');
    const id = BigInt(T0 / 1000);
    const hash = await clients.wallet(1).writeContract({
      address: conn.contract,
      abi,
      functionName: 'retire',
      args: [id, BigInt(mine.wh), `0x${'ab'.repeat(32)}`],
    });
    assert.equal((await clients.public.waitForTransactionReceipt({ hash })).status, 'success');
    assert.equal(
      await clients.public.readContract({ address: conn.contract, abi, functionName: 'retired', args: [id, holder] }),
      BigInt(mine.wh),
    );
  } finally {
    ledger.close();
    await conn.stop();
  }
});
