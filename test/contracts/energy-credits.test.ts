import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BaseError, ContractFunctionRevertedError, keccak256, toHex, type Address, type Hex } from 'viem';
import { anvilWithCredits, abi, type clientsFor } from './chain.js';
import { buildCreditChunks, commitmentHash, type Commitment } from '../../settlement/chain/commitment.js';
import { loadArtifact } from '../../contracts/artifact.js';

/** The custom error name a viem call failed with, or the message. */
function revertName(err: unknown): string {
  if (err instanceof BaseError) {
    const r = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (r instanceof ContractFunctionRevertedError) return r.data?.errorName ?? r.reason ?? r.shortMessage;
    return err.shortMessage;
  }
  return String(err);
}

async function expectRevert(p: Promise<unknown>, name: string): Promise<void> {
  await assert.rejects(p, (err) => {
    assert.equal(revertName(err), name);
    return true;
  });
}

const ACCOUNTS: Address[] = [
  '0x1000000000000000000000000000000000000001',
  '0x1000000000000000000000000000000000000002',
  '0x1000000000000000000000000000000000000003',
  '0x1000000000000000000000000000000000000004',
  '0x1000000000000000000000000000000000000005',
];

function makeCommitment(
  interval: bigint,
  credits: { account: Address; wh: bigint }[],
  chunkSize: number,
  exportWh?: bigint,
) {
  const { chunks, root } = buildCreditChunks(interval, credits, chunkSize);
  const total = credits.reduce((s, c) => s + c.wh, 0n);
  const c: Commitment = {
    interval,
    tradesRoot: keccak256(toHex('trades')),
    readingsRoot: keccak256(toHex('readings')),
    creditsRoot: root,
    ruleSet: keccak256(toHex('uniform k=0.5 v1')),
    exportWh: exportWh ?? total,
    matchedWh: total / 2n,
    chunks: chunks.length,
  };
  return { c, chunks };
}

for (const hardfork of [undefined, 'london'] as const) {
  describe(`EnergyCredits on anvil (${hardfork ?? 'default hardfork'})`, () => {
    let address: Address;
    let clients: ReturnType<typeof clientsFor>;
    const write = async (i: number, functionName: string, args: readonly unknown[]): Promise<Hex> => {
      const wallet = clients.wallet(i);
      // simulate first: a revert surfaces with its custom error name
      const { request } = await clients.public.simulateContract({
        address,
        abi,
        functionName,
        args,
        account: wallet.account,
      } as never);
      const hash = await wallet.writeContract(request as never);
      const receipt = await clients.public.waitForTransactionReceipt({ hash });
      assert.equal(receipt.status, 'success');
      return hash;
    };
    const read = (functionName: string, args: readonly unknown[]) =>
      clients.public.readContract({ address, abi, functionName, args } as never) as Promise<unknown>;

    let stop = async () => {};
    before(async () => {
      const chain = await anvilWithCredits(hardfork);
      ({ address, clients } = chain);
      stop = () => chain.anvil.stop();
    });
    after(() => stop());

    it('refuses commit, mint and pause from an account without the role', async () => {
      const { c, chunks } = makeCommitment(1_800_000_000n, [{ account: ACCOUNTS[0]!, wh: 10n }], 10);
      await expectRevert(write(1, 'commit', [c]), 'AccessControlUnauthorizedAccount');
      await write(0, 'commit', [c]);
      const ch = chunks[0]!;
      await expectRevert(write(1, 'mintChunk', [c, ch.index, ch.proof, ch.words]), 'AccessControlUnauthorizedAccount');
      await expectRevert(write(1, 'pause', []), 'AccessControlUnauthorizedAccount');
      assert.equal(await read('balanceOf', [ACCOUNTS[0], c.interval]), 0n);
    });

    it('commits an interval once: the same again is AlreadyCommitted, another is Conflict', async () => {
      const { c } = makeCommitment(1_800_000_900n, [{ account: ACCOUNTS[0]!, wh: 5n }], 10);
      await write(0, 'commit', [c]);
      assert.equal(await read('commitmentHash', [c.interval]), commitmentHash(c));
      await expectRevert(write(0, 'commit', [c]), 'AlreadyCommitted');
      await expectRevert(write(0, 'commit', [{ ...c, exportWh: 6n }]), 'Conflict');
    });

    it('mints each chunk once, to the committed recipients, and refuses a replay or a forged chunk', async () => {
      const credits = ACCOUNTS.map((account, i) => ({ account, wh: BigInt(100 * (i + 1)) }));
      const { c, chunks } = makeCommitment(1_800_001_800n, credits, 2);
      assert.equal(chunks.length, 3);
      await write(0, 'commit', [c]);
      await expectRevert(write(0, 'mintChunk', [c, 1, chunks[0]!.proof, chunks[0]!.words]), 'InvalidChunkProof');
      await expectRevert(write(0, 'mintChunk', [c, 3, [], []]), 'ChunkOutOfRange');
      for (const ch of chunks) await write(0, 'mintChunk', [c, ch.index, ch.proof, ch.words]);
      await expectRevert(write(0, 'mintChunk', [c, 0, chunks[0]!.proof, chunks[0]!.words]), 'ChunkAlreadyMinted');
      for (const [i, cr] of credits.entries())
        assert.equal(await read('balanceOf', [cr.account, c.interval]), cr.wh, `account ${i}`);
      assert.equal(await read('chunkMinted', [c.interval, 2]), true);
      const state = (await read('intervals', [c.interval])) as readonly bigint[] & readonly number[];
      assert.deepEqual([state[0], state[1], state[2], state[3]], [1500n, 1500n, 3, 3]);
      // a commitment that is not the stored one cannot mint
      await expectRevert(
        write(0, 'mintChunk', [{ ...c, matchedWh: 1n }, 0, chunks[0]!.proof, chunks[0]!.words]),
        'Conflict',
      );
    });

    it('keeps each chunk’s minted bit apart across the bitmap’s words (chunks 0–31 beside the totals, then 256 a word)', async () => {
      const credits = Array.from({ length: 290 }, (_, i) => ({
        account: `0x${(0x2000 + i).toString(16).padStart(40, '0')}` as Address,
        wh: BigInt(i + 1),
      }));
      const { c, chunks } = makeCommitment(1_800_006_300n, credits, 1);
      assert.equal(chunks.length, 290);
      await write(0, 'commit', [c]);
      const picked = [0, 31, 32, 287, 288, 289];
      for (const i of picked) await write(0, 'mintChunk', [c, i, chunks[i]!.proof, chunks[i]!.words]);
      for (const i of picked)
        await expectRevert(write(0, 'mintChunk', [c, i, chunks[i]!.proof, chunks[i]!.words]), 'ChunkAlreadyMinted');
      for (const i of [1, 30, 33, 286])
        assert.equal(await read('chunkMinted', [c.interval, i]), false, `chunk ${i} not minted`);
      for (const i of picked) {
        assert.equal(await read('chunkMinted', [c.interval, i]), true, `chunk ${i} minted`);
        assert.equal(await read('balanceOf', [credits[i]!.account, c.interval]), credits[i]!.wh);
      }
      const mintedWh = picked.reduce((s, i) => s + credits[i]!.wh, 0n);
      const total = credits.reduce((s, cr) => s + cr.wh, 0n);
      const state = (await read('intervals', [c.interval])) as readonly bigint[] & readonly number[];
      assert.deepEqual([state[0], state[1], state[2], state[3]], [total, mintedWh, 290, picked.length]);
      // the rest still mints, each once
      await write(0, 'mintChunk', [c, 33, chunks[33]!.proof, chunks[33]!.words]);
      assert.equal(await read('chunkMinted', [c.interval, 33]), true);
    });

    it('commits in ≤ 60,000 gas (one storage slot) and mints a chunk of 200 new recipients in ≤ 26,500 gas each', async () => {
      const credits = Array.from({ length: 200 }, (_, i) => ({
        account: `0x${(0x3000 + i).toString(16).padStart(40, '0')}` as Address,
        wh: BigInt(50 + ((i * 37) % 1500)),
      }));
      const { c, chunks } = makeCommitment(1_800_007_200n, credits, 200);
      const gasOf = async (hash: Hex) => (await clients.public.getTransactionReceipt({ hash })).gasUsed;
      const commitGas = await gasOf(await write(0, 'commit', [c]));
      assert.ok(commitGas <= 60_000n, `commit took ${commitGas} gas`);
      const ch = chunks[0]!;
      const mintGas = await gasOf(await write(0, 'mintChunk', [c, ch.index, ch.proof, ch.words]));
      assert.ok(mintGas / 200n <= 26_500n, `mint took ${mintGas / 200n} gas per recipient`);
    });

    it('never mints beyond the committed total, even with valid chunk proofs', async () => {
      const credits = [
        { account: ACCOUNTS[0]!, wh: 70n },
        { account: ACCOUNTS[1]!, wh: 50n },
      ];
      const { c, chunks } = makeCommitment(1_800_002_700n, credits, 1, 100n);
      await write(0, 'commit', [c]);
      await write(0, 'mintChunk', [c, 0, chunks[0]!.proof, chunks[0]!.words]);
      await expectRevert(write(0, 'mintChunk', [c, 1, chunks[1]!.proof, chunks[1]!.words]), 'OverMint');
      assert.equal(await read('balanceOf', [ACCOUNTS[1], c.interval]), 0n);
      assert.equal(await read('chunkMinted', [c.interval, 1]), false);
    });

    it('retires a holder’s credits against its consumption and records the claim', async () => {
      const holder = clients.wallet(2).account.address;
      const { c, chunks } = makeCommitment(1_800_003_600n, [{ account: holder, wh: 400n }], 10);
      await write(0, 'commit', [c]);
      await write(0, 'mintChunk', [c, 0, chunks[0]!.proof, chunks[0]!.words]);
      const claim = keccak256(toHex('consumption meter m-7 2027-01-15T08:00Z'));
      const hash = await write(2, 'retire', [c.interval, 150n, claim]);
      assert.equal(await read('balanceOf', [holder, c.interval]), 250n);
      assert.equal(await read('retired', [c.interval, holder]), 150n);
      const receipt = await clients.public.getTransactionReceipt({ hash });
      assert.ok(
        receipt.logs.some((l) => l.address.toLowerCase() === address.toLowerCase() && l.data.includes(claim.slice(2))),
        'Retired event with the claim',
      );
      await expectRevert(write(2, 'retire', [c.interval, 251n, claim]), 'ERC1155InsufficientBalance');
    });

    it('pauses: no commit, mint, transfer or retirement until unpaused', async () => {
      const holder = clients.wallet(3).account.address;
      const { c, chunks } = makeCommitment(1_800_004_500n, [{ account: holder, wh: 10n }], 10);
      await write(0, 'commit', [c]);
      await write(0, 'mintChunk', [c, 0, chunks[0]!.proof, chunks[0]!.words]);
      await write(0, 'pause', []);
      const next = makeCommitment(1_800_005_400n, [{ account: holder, wh: 10n }], 10);
      await expectRevert(write(0, 'commit', [next.c]), 'EnforcedPause');
      await expectRevert(write(3, 'safeTransferFrom', [holder, ACCOUNTS[0], c.interval, 1n, '0x']), 'EnforcedPause');
      await expectRevert(write(3, 'retire', [c.interval, 1n, claimZero]), 'EnforcedPause');
      await write(0, 'unpause', []);
      await write(3, 'safeTransferFrom', [holder, ACCOUNTS[0], c.interval, 1n, '0x']);
      await write(0, 'commit', [next.c]);
    });

    if (hardfork === 'london') {
      it('needs the london build: the default build does not deploy on a London EVM', async () => {
        const wallet = clients.wallet(0);
        const art = loadArtifact('EnergyCredits');
        const hash = await wallet.deployContract({
          abi: art.abi,
          bytecode: art.bytecode.default,
          args: [wallet.account.address, wallet.account.address, ''],
          gas: 5_000_000n,
        });
        const receipt = await clients.public.waitForTransactionReceipt({ hash });
        assert.equal(receipt.status, 'reverted', 'PUSH0 (Shanghai) is not a London opcode');
      });
    }
  });
}

const claimZero: Hex = `0x${'0'.repeat(64)}`;
