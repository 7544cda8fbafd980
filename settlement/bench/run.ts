// npm run bench:settlement [-- --runs 5 --households 1000 --hardfork london]
//
// Settles one interval of N households end to end on a fresh anvil: statements
// and credits from the ledger, then commitment and minting through the
// Submitter until final (confirmations 1 on anvil). Gas from the receipts.
// Prints the median of several runs, for both builds of the contract (the
// default EVM on anvil's default hardfork, the london build on london: the gas
// targets hold for both), or for the one `--hardfork` names. Not a test: the
// timings depend on the machine, the gas does not.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createPublicClient, createWalletClient, http, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { openLedger } from '../../ledger/ledger.js';
import { journalForInterval } from '../../ledger/journal.js';
import { getSettlementCredits } from '../../ledger/statements.js';
import { startAnvil } from '../chain/anvil.js';
import { ANVIL_KEYS } from '../chain/accounts.js';
import { deployEnergyCredits } from '../../contracts/deploy.js';
import { Submitter } from '../submitter.js';
import { settleInterval } from '../settle.js';
import { seedInterval } from './scenario.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    households: { type: 'string', default: '1000' },
    hardfork: { type: 'string' },
  },
});
const runs = Number(values.runs);
const households = Number(values.households);
const key = ANVIL_KEYS[0] as Hex;
const targets = values.hardfork ? [values.hardfork] : [undefined, 'london'];
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface RunResult {
  seconds: number;
  settleMs: number;
  commitGas: number;
  perRecipient: number;
  recipients: number;
  chunks: number;
  mintGas: number;
}

/** `runs` intervals on one fresh anvil of `hardfork` (undefined = anvil's default) with the matching build. */
async function benchTarget(hardfork: string | undefined): Promise<RunResult[]> {
  const anvil = await startAnvil(hardfork ? { hardfork } : {});
  const results: RunResult[] = [];
  try {
    const transport = http(anvil.rpcUrl);
    const publicClient = createPublicClient({ transport, cacheTime: 0 });
    const wallet = createWalletClient({ transport, account: privateKeyToAccount(key) });
    const { address } = await deployEnergyCredits({
      wallet,
      publicClient,
      admin: wallet.account.address,
      settler: wallet.account.address,
      evm: hardfork === 'london' ? 'london' : 'default',
    });
    for (let run = 0; run < runs; run++) {
      const dir = mkdtempSync(join(tmpdir(), 'mgx-bench-'));
      try {
        const ledger = openLedger(join(dir, 'ledger.db'));
        const start = Date.UTC(2027, 0, 15, 8, 0) + run * 900_000;
        seedInterval(ledger, start, { households, seed: run + 1 });
        const t0 = performance.now();
        settleInterval(ledger, start, {
          market: { feedInTariff: '0.0800', retailTariff: '0.3000' },
          microgrid: { currencyMinorUnits: 2 },
        });
        const t1 = performance.now();
        const sub = new Submitter({
          ledger,
          rpcUrl: anvil.rpcUrl,
          chainId: 31337,
          privateKey: key,
          contract: address,
          pollMs: 5,
        });
        await sub.drain(120_000);
        const t2 = performance.now();
        const rows = journalForInterval(ledger, start).filter((r) => r.state === 'final');
        const gas = async (hash: Hex) => Number((await publicClient.getTransactionReceipt({ hash })).gasUsed);
        const commit = rows.find((r) => r.action === 'commit')!;
        const mints = rows.filter((r) => r.action === 'mint');
        const mintGas = (await Promise.all(mints.map((r) => gas(r.txHash!)))).reduce((a, b) => a + b, 0);
        const recipients = getSettlementCredits(ledger, start)!.credits.length;
        results.push({
          seconds: (t2 - t0) / 1000,
          settleMs: t1 - t0,
          commitGas: await gas(commit.txHash!),
          perRecipient: mintGas / recipients,
          recipients,
          chunks: mints.length,
          mintGas,
        });
        ledger.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const r = results.at(-1)!;
      console.log(
        `${hardfork ?? 'default'} run ${run + 1}: ${r.seconds.toFixed(3)} s (statements+credits ${r.settleMs.toFixed(0)} ms), commit ${r.commitGas} gas, ${r.recipients} recipients in ${r.chunks} chunks, ${r.perRecipient.toFixed(0)} gas/recipient`,
      );
    }
  } finally {
    await anvil.stop();
  }
  return results;
}

const byTarget: [string, RunResult[]][] = [];
for (const t of targets) byTarget.push([t ?? 'default', await benchTarget(t)]);

console.log(`\nsettlement benchmark — ${households} households, ${runs} runs per EVM build, medians:`);
console.log(
  `  (${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at the end: other work on the machine slows the timings, not the gas)`,
);
for (const [name, results] of byTarget) {
  const m = (f: (r: RunResult) => number) => median(results.map(f));
  const build = name === 'default' ? 'default build, anvil default hardfork' : `${name} build and hardfork`;
  console.log(`  ${build}:`);
  console.log(
    `    gas per credit recipient (all mint transactions incl. base cost / recipients): ${m((r) => r.perRecipient).toFixed(0)}  (target ≤ 26500)`,
  );
  console.log(
    `    gas per commitment:                                                      ${m((r) => r.commitGas)}  (target ≤ 60000)`,
  );
  console.log(
    `    seconds per interval, settled and final:                                 ${m((r) => r.seconds).toFixed(3)}  (target ≤ 10)`,
  );
  console.log(
    `    of which statements + credits (ledger, no chain):                        ${(m((r) => r.settleMs) / 1000).toFixed(3)}`,
  );
  console.log(`    recipients per interval: ${m((r) => r.recipients)}, chunks: ${m((r) => r.chunks)}`);
}
