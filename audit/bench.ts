// npm run bench:audit [-- --intervals 2880 --households 100 --runs 3 --workers 2,1 --cache DIR | --no-cache]
//
// A month of settled 15-minute intervals (default 2 880 × 100 households)
// built the way the app builds it — signed readings (EIP-712, one gateway
// key), the app's metering and metered clearing (app/cycle-steps.ts),
// settlement — in a ledger, with every interval committed and minted on anvil
// (the settlement's own plan: commitment + credit chunks): app/bench/audit-month.ts,
// run as a child process by bench-fixture.ts (this room does not import app/).
// The built month is cached (ledger file + anvil state) under --cache, keyed
// by the parameters and the code that shapes it, so later runs start at once.
// Then the whole month is audited through the RPC several times per worker
// count and the median printed.
// Not a test: the figures depend on the machine and on what else runs on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openLedger } from '../ledger/ledger.js';
import { meterDataRulesOf } from './meter-data-window.js';
import { runAudit } from './audit.js';
import { benchConfig, month, STEP, T0 } from './bench-fixture.js';

const { values } = parseArgs({
  options: {
    intervals: { type: 'string', default: '2880' },
    households: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2,1' },
    cache: { type: 'string', default: join(tmpdir(), 'mgx-audit-bench-cache') },
    'no-cache': { type: 'boolean', default: false },
  },
});
const workerCounts = values.workers.split(',').map(Number);
const intervals = Number(values.intervals);
const households = Number(values.households);
const runs = Number(values.runs);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const log = (s: string) => process.stderr.write(`${s}\n`);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const dir = mkdtempSync(join(tmpdir(), 'mgx-audit-bench-'));
let stopAnvil: (() => Promise<void>) | undefined;
// Ctrl-C or a kill must not leave anvil behind.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    // eslint-disable-next-line @typescript-eslint/no-floating-promises -- process.exit() in finally ends the process before a rejection could surface
    void (stopAnvil?.() ?? Promise.resolve()).finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}
try {
  log(`load average at the start: ${load()}`);
  const m = await month({ intervals, households, cacheDir: values['no-cache'] ? null : values.cache, workDir: dir });
  stopAnvil = () => m.anvil.stop();
  const built = m.cached
    ? 'from the cache'
    : `built in ${m.buildSeconds.toFixed(1)} s (${Object.entries(m.phases)
        .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
        .join(', ')})`;
  log(`month ${built}`);
  const config = benchConfig();
  const tariffs = {
    feedInTariff: config.market.feedInTariff,
    retailTariff: config.market.retailTariff,
    minorUnits: config.microgrid.currencyMinorUnits,
  };
  const ledger = openLedger(m.ledgerPath, { readonly: true });
  const figures: string[] = [];
  try {
    for (const workers of runs > 0 ? workerCounts : []) {
      const seconds: number[] = [];
      for (let run = 0; run < runs; run++) {
        const cpu = process.cpuUsage();
        const r = await runAudit({
          ledger,
          rpcUrl: m.anvil.rpcUrl,
          contract: m.contract,
          from: T0,
          to: T0 + intervals * STEP,
          intervalMs: STEP,
          tariffs,
          meterData: meterDataRulesOf(config),
          workers,
        });
        const used = process.cpuUsage(cpu);
        seconds.push(r.seconds);
        // CPU time of this process (all its threads; anvil not included): comparable across runs when other work shares
        // the cores.
        log(
          `${workers} thread(s), run ${run + 1}: ${r.intervals.length} intervals in ${r.seconds.toFixed(2)} s = ${r.intervalsPerSecond.toFixed(1)} intervals/s, ${r.passed} pass, ${r.failed} fail; CPU ${((used.user + used.system) / 1e6).toFixed(1)} s (load average ${load()})`,
        );
        if (!r.pass)
          throw new Error(
            `the synthetic month does not pass: ${JSON.stringify(
              r.intervals
                .find((i) => !i.pass)
                ?.checks.flatMap((c) => c.failures)
                .slice(0, 3),
            )}`,
          );
      }
      const med = median(seconds);
      figures.push(
        `  ${workers} thread(s): median ${med.toFixed(2)} s = ${(intervals / med).toFixed(1)} intervals/s  (target ≤ 30 s, issue 16)   runs: ${seconds.map((x) => x.toFixed(2)).join(', ')} s`,
      );
    }
  } finally {
    ledger.close();
  }
  console.log(
    `\naudit benchmark — ${intervals} intervals × ${households} households (${(intervals * households * 2).toLocaleString('en')} reading uses, ${((intervals + 1) * households).toLocaleString('en')} distinct signatures), ${runs} runs each, anvil on loopback:`,
  );
  console.log(`  month ${built}`);
  for (const f of figures) console.log(f);
  console.log(
    `  (${cpus().length} cores, load average ${load()} at the end: other work on the machine slows the timings)`,
  );
} finally {
  await stopAnvil?.();
  rmSync(dir, { recursive: true, force: true });
}
