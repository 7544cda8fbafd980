import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createPublicClient, http } from 'viem';
import { openLedger } from '../../ledger/ledger.js';
import { countIntervalsByState, latestIntervalStart } from '../../ledger/intervals.js';
import { countQueuedSettlements } from '../../ledger/statements.js';
import { countJournalInFlight } from '../../ledger/journal.js';
import { INTERVAL_STATES } from '../../core/interval-state.js';
import { toIso } from '../../core/interval.js';
import { MicrogridError, invalid } from '../../core/errors.js';
import { loadConfig } from '../load-config.js';
import { readRuntimeFile } from '../runtime-file.js';
import { dataDirOf, type Command } from './command.js';
import { STALLED_KEY, type StalledRecord } from '../../settlement/stall.js';

export interface StatusReport {
  dataDir: string;
  intervals: Record<string, number>;
  lastFinal: string | null;
  settlementQueue: number;
  journalInFlight: number;
  /** What `<dataDir>/runtime.json` says: `stale` when the app that wrote it no longer runs. */
  instance: { state: 'running' | 'stale' | 'absent'; pid: number | null; startedAt: string | null };
  /** An interval waiting on the chain longer than chain.stalledAfterSeconds (alarm SETTLEMENT_STALLED), or null. */
  stalled: StalledRecord | null;
  server: {
    url: string | null;
    reachable: boolean;
    devices: Record<'online' | 'stale' | 'offline' | 'asleep', number> | null;
  };
  chain: { rpcUrl: string | null; contract: string | null; reachable: boolean; block: number | null };
}

/**
 * Devices by health from the server's `/metrics` (`mgx_devices{status=…}`):
 * public, so no token is needed, and the same gauge a Prometheus scrape sees.
 * (`/api/state` is cut to the caller's view: without a token it has no devices.)
 */
export function devicesFromMetrics(text: string): Record<'online' | 'stale' | 'offline' | 'asleep', number> | null {
  const out = { online: 0, stale: 0, offline: 0, asleep: 0 };
  let seen = false;
  for (const m of text.matchAll(/^mgx_devices\{status="(online|stale|offline|asleep)"\} (\d+)$/gm)) {
    out[m[1] as keyof typeof out] = Number(m[2]);
    seen = true;
  }
  return seen ? out : null;
}

/**
 * `mgx status`: intervals pending per state, devices by health, last chain block — from the ledger, the runtime file
 * and the instance that runs.
 */
export const statusCommand: Command = {
  name: 'status',
  summary: 'intervals pending per state, devices online/stale/offline, last chain block',
  usage: `      --url URL        the running server (default: the one recorded in the data folder by mgx start)
      --rpc URL        the chain RPC (default: the running app's, else chain.rpcUrl)
      --format F       table (default) or json`,
  options: { url: { type: 'string' }, rpc: { type: 'string' }, format: { type: 'string' } },
  async run(ctx) {
    const format = ctx.values.format ?? 'table';
    if (format !== 'table' && format !== 'json') throw invalid('USAGE', '--format', format, 'table or json');
    const cfgPath = ctx.values.config;
    // Reading local state needs no token or key: secrets are not resolved here.
    const { config } = loadConfig({
      path: typeof cfgPath === 'string' ? cfgPath : undefined,
      env: ctx.env,
      cwd: ctx.cwd,
      secrets: false,
    });
    const dataDir = resolve(ctx.cwd, dataDirOf(ctx));
    const file = join(dataDir, 'ledger.sqlite');
    if (!existsSync(file)) {
      throw new MicrogridError('NOT_FOUND', 'no ledger in the data folder (has the microgrid been started here?)', {
        field: '--data-dir',
        value: dataDir,
        expected: 'the data folder of a microgrid (mgx start --data-dir)',
      });
    }
    const runtime = readRuntimeFile(dataDir);
    const live = runtime.state === 'running' ? runtime.info : undefined;
    const urlArg = typeof ctx.values.url === 'string' ? ctx.values.url.replace(/\/$/, '') : undefined;
    const rpcArg = typeof ctx.values.rpc === 'string' ? ctx.values.rpc : undefined;
    const ledger = openLedger(file, { readonly: true });
    let report: StatusReport;
    try {
      const counts = countIntervalsByState(ledger);
      const lastFinal = latestIntervalStart(ledger, 'final');
      report = {
        dataDir,
        intervals: Object.fromEntries(INTERVAL_STATES.map((s) => [s, counts[s] ?? 0])),
        lastFinal: lastFinal === null ? null : toIso(lastFinal),
        settlementQueue: countQueuedSettlements(ledger),
        journalInFlight: countJournalInFlight(ledger),
        stalled: ledger.getKv(STALLED_KEY) ? (JSON.parse(ledger.getKv(STALLED_KEY)!) as StalledRecord) : null,
        instance:
          runtime.state === 'absent'
            ? { state: 'absent', pid: null, startedAt: null }
            : { state: runtime.state, pid: runtime.info.pid, startedAt: runtime.info.startedAt },
        server: { url: urlArg ?? live?.url ?? null, reachable: false, devices: null },
        // An embedded chain of a stopped app is gone with it: only a live instance's (or a configured) RPC is asked.
        chain: {
          rpcUrl: rpcArg ?? live?.rpcUrl ?? config.chain.rpcUrl ?? null,
          contract: live?.contract ?? config.chain.contract ?? null,
          reachable: false,
          block: null,
        },
      };
    } finally {
      ledger.close();
    }
    if (report.server.url) {
      try {
        const r = await fetch(`${report.server.url}/metrics`, { signal: AbortSignal.timeout(3000) });
        if (r.ok) {
          report.server.reachable = true;
          report.server.devices = devicesFromMetrics(await r.text());
        }
      } catch {
        // not running (or not at that URL): the ledger part still stands
      }
    }
    if (report.chain.rpcUrl) {
      try {
        const client = createPublicClient({ transport: http(report.chain.rpcUrl, { retryCount: 0, timeout: 3000 }) });
        report.chain.block = Number(await client.getBlockNumber());
        report.chain.reachable = true;
      } catch {
        // reported as not reachable
      }
    }
    if (format === 'json') {
      ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return 0;
    }
    const pending = INTERVAL_STATES.filter((s) => s !== 'final')
      .map((s) => `${s} ${report.intervals[s]}`)
      .join(', ');
    const inst = report.instance;
    const d = report.server.devices;
    const lines = [
      `data folder      ${report.dataDir}`,
      `app              ${
        inst.state === 'running'
          ? `running, pid ${inst.pid}, since ${inst.startedAt}`
          : inst.state === 'stale'
            ? `not running: runtime.json names pid ${inst.pid}, which no longer runs (stopped without cleanup: killed or crashed)`
            : 'not running (no runtime.json: mgx start writes it while it runs)'
      }`,
      `intervals        ${pending}; final ${report.intervals.final}`,
      `last final       ${report.lastFinal ?? 'none yet'}`,
      `settlement       ${report.settlementQueue} interval(s) waiting for the chain, ${report.journalInFlight} transaction(s) in flight`,
      ...(report.stalled
        ? [
            `stalled          SETTLEMENT_STALLED: ${report.stalled.interval} waits on the chain since ${new Date(report.stalled.since).toISOString()} — ${report.stalled.waiting}`,
          ]
        : []),
      `server           ${report.server.url ?? '(none)'}${report.server.url ? (report.server.reachable ? ' running' : ' not reachable') : ''}${
        d
          ? ` — devices: ${d.online} online, ${d.stale} stale, ${d.offline} offline${d.asleep ? `, ${d.asleep} asleep` : ''}`
          : ''
      }`,
      `chain            ${report.chain.rpcUrl ?? 'embedded (runs with the app)'} ${report.chain.reachable ? `block ${report.chain.block}` : 'not reachable'}${report.chain.contract ? `, EnergyCredits ${report.chain.contract}` : ''}`,
    ];
    ctx.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
