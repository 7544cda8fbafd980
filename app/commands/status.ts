import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, http } from 'viem';
import { openLedger } from '../../ledger/ledger.js';
import { countIntervalsByState } from '../../ledger/intervals.js';
import { INTERVAL_STATES } from '../../core/interval-state.js';
import { toIso } from '../../core/interval.js';
import { MicrogridError, invalid } from '../../core/errors.js';
import { loadConfig } from '../load-config.js';
import { dataDirOf, type Command } from './command.js';
import { STALLED_KEY, type StalledRecord } from '../../settlement/submitter.js';

export interface StatusReport {
  dataDir: string;
  intervals: Record<string, number>;
  lastFinal: string | null;
  settlementQueue: number;
  journalInFlight: number;
  /** An interval waiting on the chain longer than chain.stalledAfterSeconds (alarm SETTLEMENT_STALLED), or null. */
  stalled: StalledRecord | null;
  server: { url: string; reachable: boolean; devices: Record<string, number> | null };
  chain: { rpcUrl: string | null; reachable: boolean; block: number | null };
}

async function fetchJson(url: string, timeoutMs: number): Promise<unknown> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
}

/** `mgx status`: intervals pending per state, devices offline, last chain block — from the ledger and, when it runs, the server. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'intervals pending per state, devices offline, last chain block',
  usage: `      --url URL        the running server (default: http://server.host:server.port from the config)
      --format F       table (default) or json`,
  options: { url: { type: 'string' }, format: { type: 'string' } },
  async run(ctx) {
    const format = ctx.values.format ?? 'table';
    if (format !== 'table' && format !== 'json') throw invalid('USAGE', '--format', format, 'table or json');
    const cfgPath = ctx.values.config;
    const { config } = loadConfig({ path: typeof cfgPath === 'string' ? cfgPath : undefined, env: ctx.env, cwd: ctx.cwd });
    const dataDir = dataDirOf(ctx);
    const file = join(dataDir, 'ledger.sqlite');
    if (!existsSync(file)) {
      throw new MicrogridError('NOT_FOUND', 'no ledger in the data folder (has the microgrid been started here?)', { field: '--data-dir', value: dataDir, expected: 'the data folder of a microgrid (mgx start --data-dir)' });
    }
    const ledger = openLedger(file, { readonly: true });
    let report: StatusReport;
    try {
      const counts = countIntervalsByState(ledger);
      const lastFinal = (ledger.db.prepare("SELECT MAX(start) AS s FROM intervals WHERE state = 'final'").get() as { s: number | null }).s;
      const queue = ledger.db.prepare("SELECT COUNT(*) AS n FROM settlement_credits WHERE status = 'queued'").get() as { n: number };
      const inFlight = ledger.db.prepare("SELECT COUNT(*) AS n FROM settlement_journal WHERE state IN ('planned', 'signed', 'broadcast', 'mined')").get() as { n: number };
      const rpcUrl = config.chain.rpcUrl ?? ledger.getKv('chain.rpcUrl') ?? null;
      report = {
        dataDir,
        intervals: Object.fromEntries(INTERVAL_STATES.map((s) => [s, counts[s] ?? 0])),
        lastFinal: lastFinal === null ? null : toIso(lastFinal),
        settlementQueue: queue.n,
        journalInFlight: inFlight.n,
        stalled: ledger.getKv(STALLED_KEY) ? (JSON.parse(ledger.getKv(STALLED_KEY)!) as StalledRecord) : null,
        server: { url: typeof ctx.values.url === 'string' ? ctx.values.url : `http://${config.server.host}:${config.server.port}`, reachable: false, devices: null },
        chain: { rpcUrl, reachable: false, block: null },
      };
    } finally {
      ledger.close();
    }
    try {
      const state = (await fetchJson(`${report.server.url}/api/state`, 2000)) as { state?: { devices?: Record<string, { status: string }> } };
      report.server.reachable = true;
      const devices = Object.values(state.state?.devices ?? {});
      report.server.devices = { online: 0, stale: 0, offline: 0 };
      for (const d of devices) report.server.devices[d.status] = (report.server.devices[d.status] ?? 0) + 1;
    } catch {
      // not running (or not at that URL): the ledger part still stands
    }
    if (report.chain.rpcUrl) {
      try {
        const client = createPublicClient({ transport: http(report.chain.rpcUrl, { retryCount: 0, timeout: 2000 }) });
        report.chain.block = Number(await client.getBlockNumber());
        report.chain.reachable = true;
      } catch {
        // an embedded chain runs only while the app does
      }
    }
    if (format === 'json') {
      ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return 0;
    }
    const pending = INTERVAL_STATES.filter((s) => s !== 'final').map((s) => `${s} ${report.intervals[s]}`).join(', ');
    const lines = [
      `data folder      ${report.dataDir}`,
      `intervals        ${pending}; final ${report.intervals.final}`,
      `last final       ${report.lastFinal ?? 'none yet'}`,
      `settlement       ${report.settlementQueue} interval(s) waiting for the chain, ${report.journalInFlight} transaction(s) in flight`,
      ...(report.stalled ? [`stalled          SETTLEMENT_STALLED: ${report.stalled.interval} waits on the chain since ${new Date(report.stalled.since).toISOString()} — ${report.stalled.waiting}`] : []),
      `server           ${report.server.url} ${report.server.reachable ? 'running' : 'not reachable'}${
        report.server.devices ? ` — devices: ${report.server.devices.online ?? 0} online, ${report.server.devices.stale ?? 0} stale, ${report.server.devices.offline ?? 0} offline` : ''
      }`,
      `chain            ${report.chain.rpcUrl ?? 'embedded (runs with the app)'} ${report.chain.reachable ? `block ${report.chain.block}` : 'not reachable'}`,
    ];
    ctx.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
