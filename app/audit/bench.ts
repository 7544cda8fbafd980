// npm run bench:audit [-- --intervals 2880 --households 100 --runs 3 --workers 1,2]
//
// Builds a month of settled 15-minute intervals (default 2 880 × 100
// households) the way the app does — signed readings (EIP-712, one gateway
// key), the app's metering and metered clearing (app/cycle-steps.ts),
// settlement — in a temp ledger, commits and mints every interval on a fresh
// anvil (the settlement's own plan: commitment + credit chunks), then audits
// the whole month through the RPC several times and prints the median.
// Not a test: the figures depend on the machine and on what else runs on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createPublicClient, createWalletClient, encodeFunctionData, http, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { secp256k1 } from '@noble/curves/secp256k1';
import { openLedger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { insertReadings, setMeterGateway } from '../../ledger/readings.js';
import { getSettlementCredits } from '../../ledger/statements.js';
import { demoConfig } from '../../core/config/demo.js';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type ReadingEvent } from '../../core/events.js';
import { readingMessage } from '../../core/reading-typed-data.js';
import type { ParticipantConfig } from '../../core/config/schema.js';
import { startAnvil } from '../../settlement/chain/anvil.js';
import { ANVIL_KEYS } from '../../settlement/chain/accounts.js';
import { planInterval } from '../../settlement/plan.js';
import { settleInterval } from '../../settlement/settle.js';
import { deployEnergyCredits } from '../../contracts/deploy.js';
import { createCycleSteps } from '../cycle-steps.js';
import { runAudit } from './audit.js';
import { ENERGY_CREDITS_ABI } from './chain.js';
import { readingDigest } from './signatures.js';

const { values } = parseArgs({ options: { intervals: { type: 'string', default: '2880' }, households: { type: 'string', default: '100' }, runs: { type: 'string', default: '3' }, workers: { type: 'string', default: '1,2' } } });
const workerCounts = values.workers.split(',').map(Number);
const intervals = Number(values.intervals);
const households = Number(values.households);
const runs = Number(values.runs);
const STEP = 900_000;
const T0 = Date.UTC(2027, 0, 1, 0, 0);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const log = (s: string) => process.stderr.write(`${s}\n`);

const dir = mkdtempSync(join(tmpdir(), 'mgx-audit-bench-'));
const anvil = await startAnvil({ gasLimit: 60_000_000n });
try {
  const t0 = performance.now();
  const config = (() => {
    const c = demoConfig(2, T0);
    return { ...c, market: { ...c.market, intervalMinutes: 15 as const } };
  })();
  const ledger = openLedger(join(dir, 'ledger.sqlite'));
  const gatewayKey = ANVIL_KEYS[2] as Hex;
  const gateway = privateKeyToAccount(gatewayKey);
  const ids = Array.from({ length: households }, (_, i) => `h${String(i).padStart(4, '0')}`);
  for (const [i, id] of ids.entries()) {
    upsertParticipant(ledger, { id, name: `Household ${i}`, zone: 'main', ...(i % 4 === 0 ? { account: `0x${(0x30000 + i).toString(16).padStart(40, 'c')}` } : {}), meters: [{ id: `${id}-grid`, role: 'grid' }], policy: {} } as ParticipantConfig, 0);
    setMeterGateway(ledger, `${id}-grid`, gateway.address);
  }
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const counters = ids.map(() => ({ imp: 1_000_000, exp: 500_000 }));
  const priv = gatewayKey.slice(2);
  const steps = createCycleSteps({ ledger, config, clock: new ManualClock(T0), bus: new EventBus() });
  for (let b = 0; b <= intervals; b++) {
    const ts = new Date(T0 + b * STEP).toISOString();
    const events: ReadingEvent[] = ids.map((id, i) => {
      const c = counters[i]!;
      if (b > 0) {
        const wh = 20 + Math.floor(rnd() * 800);
        if (rnd() < 0.5) c.exp += wh;
        else c.imp += wh;
      }
      const ev: ReadingEvent = { type: 'reading', meterId: `${id}-grid`, ts, powerW: 900, importWh: c.imp, exportWh: c.exp, voltageV: 230.4, frequencyHz: 50, quality: 'good' };
      const sig = secp256k1.sign(readingDigest(readingMessage(ev)), priv);
      const signature = `0x${sig.r.toString(16).padStart(64, '0')}${sig.s.toString(16).padStart(64, '0')}${(27 + sig.recovery).toString(16)}`;
      return { ...ev, gateway: gateway.address, signature };
    });
    insertReadings(ledger, events, T0 + b * STEP);
    if (b > 0) {
      const start = T0 + (b - 1) * STEP;
      steps.meter(start);
      settleInterval(ledger, start, config);
    }
    if (b % 288 === 0) log(`built ${b}/${intervals} intervals (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }

  // The chain: deploy, then each interval's commitment and credit chunks, signed locally and sent in JSON-RPC batches.
  const settlerKey = ANVIL_KEYS[0] as Hex;
  const settler = privateKeyToAccount(settlerKey);
  const transport = http(anvil.rpcUrl, { timeout: 60_000 });
  const publicClient = createPublicClient({ transport, cacheTime: 0 });
  const wallet = createWalletClient({ transport, account: settler });
  const { address } = await deployEnergyCredits({ wallet, publicClient, admin: settler.address, settler: settler.address, evm: 'default' });
  let nonce = await publicClient.getTransactionCount({ address: settler.address });
  const chainId = await publicClient.getChainId();
  const raws: Hex[] = [];
  for (let i = 0; i < intervals; i++) {
    const rec = getSettlementCredits(ledger, T0 + i * STEP);
    if (!rec || rec.status === 'empty') continue;
    const plan = planInterval(rec, 200);
    const sign = (data: Hex, gas: bigint) => settler.signTransaction({ to: address, data, nonce: nonce++, gas, gasPrice: 20_000_000_000n, chainId, type: 'legacy' });
    raws.push(await sign(encodeFunctionData({ abi: ENERGY_CREDITS_ABI, functionName: 'commit', args: [plan.commitment] }), 300_000n));
    for (const ch of plan.chunks) raws.push(await sign(encodeFunctionData({ abi: ENERGY_CREDITS_ABI, functionName: 'mintChunk', args: [plan.commitment, ch.index, ch.proof, ch.words] }), 9_000_000n));
  }
  // In nonce order, one at a time (anvil mines each on arrival; out-of-order nonces can be dropped from its pool).
  for (const [i, serializedTransaction] of raws.entries()) {
    const hash = await publicClient.sendRawTransaction({ serializedTransaction });
    if (i % 50 === 49 || i === raws.length - 1) {
      const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: 60_000, pollingInterval: 20 });
      if (receipt.status !== 'success') throw new Error(`transaction ${i} reverted`);
    }
    if (i % 1000 === 0) log(`sent ${i}/${raws.length} transactions`);
  }
  let last = 0;
  for (let waited = 0; waited < 300_000 && (last = await publicClient.getTransactionCount({ address: settler.address })) !== nonce; waited += 200) await new Promise((r) => setTimeout(r, 200));
  if (last !== nonce) throw new Error(`only ${last} of ${nonce} transactions mined`);
  const blocks = await publicClient.getBlockNumber();
  log(`built: ${intervals} intervals × ${households} households, ${raws.length} transactions in ${blocks} blocks, in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  const tariffs = { feedInTariff: config.market.feedInTariff, retailTariff: config.market.retailTariff, minorUnits: config.microgrid.currencyMinorUnits };
  const figures: string[] = [];
  for (const workers of workerCounts) {
    const seconds: number[] = [];
    for (let run = 0; run < runs; run++) {
      const r = await runAudit({ ledger, rpcUrl: anvil.rpcUrl, contract: address, from: T0, to: T0 + intervals * STEP, intervalMs: STEP, tariffs, workers });
      seconds.push(r.seconds);
      log(`${workers} thread(s), run ${run + 1}: ${r.intervals.length} intervals in ${r.seconds.toFixed(2)} s = ${r.intervalsPerSecond.toFixed(1)} intervals/s, ${r.passed} pass, ${r.failed} fail`);
      if (!r.pass) throw new Error(`the synthetic month does not pass: ${JSON.stringify(r.intervals.find((i) => !i.pass)?.checks.flatMap((c) => c.failures).slice(0, 3))}`);
    }
    const m = median(seconds);
    figures.push(`  ${workers} thread(s): median ${m.toFixed(2)} s = ${(intervals / m).toFixed(1)} intervals/s  (target ≤ 60 s)   runs: ${seconds.map((x) => x.toFixed(2)).join(', ')} s`);
  }
  ledger.close();
  console.log(`\naudit benchmark — ${intervals} intervals × ${households} households (${(intervals * households * 2).toLocaleString('en')} reading uses, ${((intervals + 1) * households).toLocaleString('en')} distinct signatures), ${runs} runs each, anvil on loopback:`);
  for (const f of figures) console.log(f);
  console.log(`  (${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end: other work on the machine slows the timings)`);
} finally {
  await anvil.stop();
  rmSync(dir, { recursive: true, force: true });
}
