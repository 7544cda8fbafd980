// npm run bench:audit builds its month with this when its cache lacks it
// (audit/bench-fixture.ts runs `tsx app/bench/audit-month.ts --intervals N
// --households H --out DIR`): a ledger built the way the app builds it, with
// the app's cycle steps, and the matching commitments and mints on anvil,
// written to DIR (ledger.sqlite, anvil-state.json, month.json).
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import {
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  http,
  toEventSelector,
  type Address,
  type Hex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { secp256k1 } from '@noble/curves/secp256k1';
import { invert, mod } from '@noble/curves/abstract/modular';
import { openLedger, type Ledger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { insertReadings, setMeterGateway } from '../../ledger/readings.js';
import { getSettlementCredits } from '../../ledger/statements.js';
import type { Config, ParticipantConfig } from '../../core/config/schema.js';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type ReadingEvent } from '../../core/events.js';
import { readingMessage } from '../../core/reading-typed-data.js';
import { startAnvil } from '../../settlement/chain/anvil.js';
import { ANVIL_KEYS } from '../../settlement/chain/accounts.js';
import { GAS_PER_CHUNK, GAS_PER_RECIPIENT, planInterval } from '../../settlement/plan.js';
import { settleInterval } from '../../settlement/settle.js';
import { deployEnergyCredits } from '../../contracts/deploy.js';
import { createCycleSteps } from '../cycle-steps.js';
import { ENERGY_CREDITS_ABI } from '../../audit/chain.js';
import { readingDigest } from '../../audit/signatures.js';
import { benchConfig, GAS_LIMIT, STEP, T0, type MonthMeta } from '../../audit/bench-fixture.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

/**
 * Signs readings as the gateway with nonces k₀, k₀+1, k₀+2, …: each R is the
 * previous one plus G (one point addition; the points of a boundary share one
 * inversion), so a month's 290 000 signatures take seconds instead of the
 * ~100 s of 290 000 noble `sign` calls (~0.35 ms each, measured). Related
 * nonces would give a real key away; this key is anvil's public development
 * key. The signatures are ordinary ECDSA ones — low-s, recovery bit from R.y —
 * and the audit checks them like any other.
 */
class SequentialSigner {
  readonly #d: bigint;
  #k: bigint;
  #R: InstanceType<typeof secp256k1.ProjectivePoint>;

  constructor(privateKey: Hex) {
    this.#d = BigInt(privateKey);
    this.#k = mod(
      BigInt(`0x${createHash('sha256').update('mgx audit bench nonces').digest('hex')}`),
      secp256k1.CURVE.n,
    );
    this.#R = secp256k1.ProjectivePoint.BASE.multiply(this.#k);
  }

  signAll(digests: readonly Uint8Array[]): string[] {
    const N = secp256k1.CURVE.n;
    const points = [];
    const ks: bigint[] = [];
    for (let i = 0; i < digests.length; i++) {
      points.push(this.#R);
      ks.push(this.#k);
      this.#R = this.#R.add(secp256k1.ProjectivePoint.BASE);
      this.#k = this.#k + 1n === N ? 1n : this.#k + 1n;
    }
    const affine = secp256k1.ProjectivePoint.normalizeZ(points);
    return digests.map((digest, i) => {
      const R = affine[i]!;
      const k = ks[i]!;
      const r = mod(R.px, N);
      if (r === 0n || R.px >= N) throw new Error('nonce gives r = 0 or R.x ≥ n'); // probability ~2⁻¹²⁸
      const e = mod(BigInt(`0x${Buffer.from(digest).toString('hex')}`), N);
      let s = mod(invert(k, N) * (e + r * this.#d), N);
      let bit = Number(R.py & 1n);
      if (s > N >> 1n) {
        s = N - s;
        bit ^= 1;
      }
      if (s === 0n) throw new Error('nonce gives s = 0');
      return `0x${r.toString(16).padStart(64, '0')}${s.toString(16).padStart(64, '0')}${(27 + bit).toString(16)}`;
    });
  }
}

/**
 * Ledger part: participants, signed readings at every boundary, then per interval the app's metering, metered clearing
 * and settlement.
 */
function buildLedger(
  ledger: Ledger,
  config: Config,
  intervals: number,
  households: number,
  phases: Record<string, number>,
): void {
  const lap = (name: string, since: number) => {
    const now = performance.now();
    phases[name] = (phases[name] ?? 0) + (now - since) / 1000;
    return now;
  };
  const t0 = performance.now();
  const gatewayKey = ANVIL_KEYS[2] as Hex;
  const gateway = privateKeyToAccount(gatewayKey);
  const signer = new SequentialSigner(gatewayKey);
  const ids = Array.from({ length: households }, (_, i) => `h${String(i).padStart(4, '0')}`);
  for (const [i, id] of ids.entries()) {
    upsertParticipant(
      ledger,
      {
        id,
        name: `Household ${i}`,
        zone: 'main',
        ...(i % 4 === 0 ? { account: `0x${(0x30000 + i).toString(16).padStart(40, 'c')}` } : {}),
        meters: [{ id: `${id}-grid`, role: 'grid' }],
        policy: {},
      } as ParticipantConfig,
      0,
    );
    setMeterGateway(ledger, `${id}-grid`, gateway.address);
  }
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const counters = ids.map(() => ({ imp: 1_000_000, exp: 500_000 }));
  const steps = createCycleSteps({ ledger, config, clock: new ManualClock(T0), bus: new EventBus() });
  let at = performance.now();
  for (let b = 0; b <= intervals; b++) {
    const ts = new Date(T0 + b * STEP).toISOString();
    const events: ReadingEvent[] = ids.map((id, i) => {
      const c = counters[i]!;
      // Power at a reading is that of the quarter hour just ended (+ import, − export), so counters and power agree.
      let powerW = 0;
      if (b > 0) {
        const wh = 20 + Math.floor(rnd() * 800);
        const exporter = rnd() < 0.5;
        if (exporter) c.exp += wh;
        else c.imp += wh;
        powerW = (exporter ? -wh : wh) * 4;
      }
      return {
        type: 'reading',
        meterId: `${id}-grid`,
        ts,
        powerW,
        importWh: c.imp,
        exportWh: c.exp,
        voltageV: 230.4,
        frequencyHz: 50,
        quality: 'good',
      };
    });
    const digests = events.map((ev) => readingDigest(readingMessage(ev)));
    at = lap('digests', at);
    const signatures = signer.signAll(digests);
    at = lap('sign', at);
    insertReadings(
      ledger,
      events.map((ev, i) => ({ ...ev, gateway: gateway.address, signature: signatures[i]! })),
      T0 + b * STEP,
    );
    at = lap('insert readings', at);
    if (b > 0) {
      const start = T0 + (b - 1) * STEP;
      steps.meter(start);
      at = lap('meter + metered clearing', at);
      settleInterval(ledger, start, config);
      at = lap('settle', at);
    }
    if (b % 288 === 0) log(`  ledger: ${b}/${intervals} intervals (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
}

/**
 * Chain part: deploy, then every settled interval's commitment and credit chunks (the settlement's own plan), signed
 * here and mined in blocks of many.
 */
async function buildChain(
  ledger: Ledger,
  rpcUrl: string,
  intervals: number,
  phases: Record<string, number>,
): Promise<Address> {
  let at = performance.now();
  const settlerKey = ANVIL_KEYS[0] as Hex;
  const settler = privateKeyToAccount(settlerKey);
  const transport = http(rpcUrl, { timeout: 60_000 });
  const publicClient = createPublicClient({ transport, cacheTime: 0 });
  const wallet = createWalletClient({ transport, account: settler });
  const { address } = await deployEnergyCredits({
    wallet,
    publicClient,
    admin: settler.address,
    settler: settler.address,
    evm: 'default',
  });
  let nonce = await publicClient.getTransactionCount({ address: settler.address });
  const chainId = await publicClient.getChainId();
  const raws: { raw: Hex; gas: bigint }[] = [];
  for (let i = 0; i < intervals; i++) {
    const rec = getSettlementCredits(ledger, T0 + i * STEP);
    if (!rec || rec.status === 'empty') continue;
    const plan = planInterval(rec, 200);
    const sign = async (data: Hex, gas: bigint) =>
      raws.push({
        raw: await settler.signTransaction({
          to: address,
          data,
          nonce: nonce++,
          gas,
          gasPrice: 20_000_000_000n,
          chainId,
          type: 'legacy',
        }),
        gas,
      });
    await sign(
      encodeFunctionData({ abi: ENERGY_CREDITS_ABI, functionName: 'commit', args: [plan.commitment] }),
      300_000n,
    );
    for (const ch of plan.chunks)
      await sign(
        encodeFunctionData({
          abi: ENERGY_CREDITS_ABI,
          functionName: 'mintChunk',
          args: [plan.commitment, ch.index, ch.proof, ch.words],
        }),
        GAS_PER_CHUNK + BigInt(ch.words.length) * GAS_PER_RECIPIENT,
      );
  }
  phases['sign transactions'] = (performance.now() - at) / 1000;
  at = performance.now();
  // Automine mines one block per transaction and answers only then. With it
  // off, a block's worth of transactions waits in the pool in nonce order and
  // one evm_mine mines them. Their gas limits sum to at most half the block's:
  // anvil drops from its pool what does not fit in the block it mines, and
  // blocks fuller than half raise the base fee (EIP-1559) past the
  // transactions' gas price within a few hundred blocks.
  const budget = GAS_LIMIT / 2n;
  const rpc = (method: string, params: unknown[] = []) =>
    publicClient.request({ method: method as never, params: params as never });
  await rpc('evm_setAutomine', [false]);
  let sent = 0;
  let blocksMined = 0;
  while (sent < raws.length) {
    let gas = 0n;
    const first = sent;
    while (sent < raws.length && gas + raws[sent]!.gas <= budget) {
      gas += raws[sent]!.gas;
      await publicClient.sendRawTransaction({ serializedTransaction: raws[sent++]!.raw });
    }
    await rpc('evm_mine');
    const mined = await publicClient.getTransactionCount({ address: settler.address });
    if (mined !== sent + 1)
      throw new Error(
        `block of transactions ${first}..${sent - 1}: ${mined - 1 - first} of ${sent - first} mined (pool ${JSON.stringify(await rpc('txpool_status'))})`,
      ); // + 1: the deployment
    if (++blocksMined % 100 === 0) log(`  chain: ${sent}/${raws.length} transactions mined`);
  }
  await rpc('evm_setAutomine', [true]);
  phases['send + mine'] = (performance.now() - at) / 1000;
  // A reverted transaction emits nothing: every one must have left its event.
  const blocks = await publicClient.getBlockNumber();
  const topics = ['Committed', 'ChunkMinted'].map((name) =>
    toEventSelector(ENERGY_CREDITS_ABI.find((x) => x.type === 'event' && x.name === name) as never),
  );
  const events = (await publicClient.request({
    method: 'eth_getLogs',
    params: [{ address, topics: [topics], fromBlock: '0x0', toBlock: 'latest' }],
  })) as { transactionHash: Hex }[];
  const emitted = new Set(events.map((e) => e.transactionHash));
  if (emitted.size !== raws.length)
    throw new Error(`${raws.length - emitted.size} of ${raws.length} transactions emitted no event (reverted)`);
  log(`  chain: ${raws.length} transactions in ${blocks} blocks`);
  return address;
}

/**
 * Builds the month for (intervals, households) into `out` (written whole or not at all: a run cut short leaves no half
 * month to load).
 */
async function buildMonth(o: { intervals: number; households: number; out: string }): Promise<void> {
  const t0 = performance.now();
  const phases: Record<string, number> = {};
  const tmp = `${o.out}.partial-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  const ledgerPath = join(tmp, 'ledger.sqlite');
  const anvil = await startAnvil({ gasLimit: GAS_LIMIT });
  // Ctrl-C or a kill (the bench stopping) must not leave anvil or a half month behind.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      // Exit whether or not anvil stopped cleanly: the signal asked for an end.
      anvil
        .stop()
        .catch(() => {})
        .finally(() => {
          rmSync(tmp, { recursive: true, force: true });
          process.exit(130);
        });
    });
  }
  try {
    const ledger = openLedger(ledgerPath);
    let contract: Address;
    try {
      // Synthetic data rebuilt on demand: no need to wait for the disk on every commit (the app keeps FULL).
      ledger.db.pragma('synchronous = OFF');
      buildLedger(ledger, benchConfig(), o.intervals, o.households, phases);
      contract = await buildChain(ledger, anvil.rpcUrl, o.intervals, phases);
    } finally {
      ledger.close();
    }
    const buildSeconds = (performance.now() - t0) / 1000;
    const at = performance.now();
    // A month's state is ~55 MB of hex: past viem's 10 MB response limit, so plain fetch.
    const res = await fetch(anvil.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_dumpState', params: [] }),
    });
    const dump = (await res.json()) as { result?: string; error?: { message: string } };
    if (typeof dump.result !== 'string')
      throw new Error(`anvil_dumpState failed: ${dump.error?.message ?? res.status}`);
    writeFileSync(join(tmp, 'anvil-state.json'), JSON.stringify(decodeState(dump.result)));
    phases['cache write'] = (performance.now() - at) / 1000;
    const meta: MonthMeta = {
      contract,
      intervals: o.intervals,
      households: o.households,
      builtAt: new Date().toISOString(),
      buildSeconds,
      phases,
    };
    writeFileSync(join(tmp, 'month.json'), JSON.stringify(meta));
    rmSync(o.out, { recursive: true, force: true });
    renameSync(tmp, o.out);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    await anvil.stop();
  }
}

/** anvil_dumpState answers gzip'd JSON as hex; --load-state reads the JSON. */
function decodeState(hex: string): unknown {
  return JSON.parse(gunzipSync(Buffer.from(hex.replace(/^0x/, ''), 'hex')).toString('utf8'));
}

const { values } = parseArgs({
  options: { intervals: { type: 'string' }, households: { type: 'string' }, out: { type: 'string' } },
});
if (!values.intervals || !values.households || !values.out)
  throw new Error('usage: tsx app/bench/audit-month.ts --intervals N --households H --out DIR');
await buildMonth({ intervals: Number(values.intervals), households: Number(values.households), out: values.out });
