import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openLedger } from '../../ledger/ledger.js';
import { listIntervals } from '../../ledger/intervals.js';
import { intervalMs, isAligned, parseUtc, type IntervalMinutes } from '../../core/interval.js';
import { MicrogridError, invalid } from '../../core/errors.js';
import type { Config } from '../../core/config/schema.js';
import { deploymentFile } from '../../settlement/chain/deploy-or-load.js';
import { loadConfig } from '../load-config.js';
import { readRuntimeFile } from '../runtime-file.js';
import { runAudit } from '../../audit/audit.js';
import { meterDataRulesOf, meteredSpeed } from '../../audit/meter-data-window.js';
import { progressBar, reportToCsv, reportToJson, reportToTable } from '../../audit/format.js';
import { exportBundle, verifyBundle } from '../../audit/bundle.js';
import { householdProof } from '../../audit/proof.js';
import { dataDirOf, type Command, type CommandContext } from './command.js';

const str = (ctx: CommandContext, k: string): string | undefined =>
  typeof ctx.values[k] === 'string' ? (ctx.values[k] as string) : undefined;

function aligned(ctx: CommandContext, field: string, minutes: IntervalMinutes): number | undefined {
  const v = str(ctx, field);
  if (v === undefined) return undefined;
  let t: number;
  try {
    t = parseUtc(v, `--${field}`);
  } catch {
    throw new MicrogridError('AUDIT_INPUT', `--${field} is not an ISO 8601 UTC time`, {
      field: `--${field}`,
      value: v,
      expected: 'an interval start, ISO 8601 UTC (e.g. 2027-01-15T08:00:00Z)',
    });
  }
  if (!isAligned(t, minutes))
    throw new MicrogridError('AUDIT_INPUT', `--${field} is not an interval start`, {
      field: `--${field}`,
      value: v,
      expected: `a multiple of ${minutes} minutes (UTC)`,
    });
  return t;
}

/**
 * The chain to audit against: --rpc/--contract, else the running app's (its
 * runtime file: an embedded chain's port is known only to it), else
 * chain.rpcUrl/chain.contract, else the deployment remembered in the data folder.
 */
function chainOf(ctx: CommandContext, config: Config): { rpcUrl: string; contract: string } {
  const runtime = readRuntimeFile(resolve(ctx.cwd, dataDirOf(ctx)));
  const live = runtime.state === 'running' ? runtime.info : undefined;
  const rpcArg = str(ctx, 'rpc');
  // The live contract goes with the live chain: with another --rpc it may not exist there.
  const useLive = live !== undefined && (rpcArg === undefined || rpcArg === live.rpcUrl);
  const rpcUrl = rpcArg ?? live?.rpcUrl ?? config.chain.rpcUrl;
  if (!rpcUrl) {
    const why =
      runtime.state === 'stale'
        ? `the app that wrote ${runtime.file} (pid ${runtime.info.pid}) no longer runs`
        : 'mgx start is not running on this data folder';
    throw new MicrogridError(
      'AUDIT_INPUT',
      `no chain to audit against: ${why}, and the embedded chain runs only while it does`,
      {
        field: '--rpc',
        value: undefined,
        expected:
          'the URL of the chain RPC (or chain.rpcUrl in the configuration), or mgx start running with --data-dir on the same folder',
      },
    );
  }
  let contract = str(ctx, 'contract') ?? (useLive ? live.contract : undefined) ?? config.chain.contract;
  if (!contract) {
    const file = deploymentFile(dataDirOf(ctx), config.chain.chainId ?? 31337);
    if (existsSync(file)) contract = (JSON.parse(readFileSync(file, 'utf8')) as { address: string }).address;
  }
  if (!contract)
    throw new MicrogridError('AUDIT_INPUT', 'no contract to audit', {
      field: '--contract',
      value: undefined,
      expected: 'the EnergyCredits address (or chain.contract, or a deployment in the data folder)',
    });
  return { rpcUrl, contract };
}

function tariffsOf(config: Config) {
  return {
    feedInTariff: config.market.feedInTariff,
    retailTariff: config.market.retailTariff,
    minorUnits: config.microgrid.currencyMinorUnits,
  };
}

/**
 * `mgx audit [--from T] [--to T] [--interval T] [--rpc URL --contract ADDR] [--format table|json|csv]`
 * `mgx audit export --interval T [--out FILE]`, `mgx audit verify BUNDLE --rpc URL`,
 * `mgx audit proof --participant P --interval T`.
 */
export const auditCommand: Command = {
  name: 'audit',
  summary:
    'audit credits against the chain: signatures, energy, clearing, credits, statements (export | verify | proof)',
  usage: `      audit            check every settled interval in [--from, --to) (or one --interval); exit 1 on any discrepancy
      audit export     write an evidence bundle of --interval to --out (default: audit-<unix>.json)
      audit verify B   check bundle B against the chain at --rpc (no ledger needed)
      audit proof      Merkle proofs of --participant's trades and credits in --interval
      --from T --to T  interval range, ISO 8601 UTC (default: everything settled up to now)
      --interval T     one interval start
      --rpc URL        chain RPC (default: the running app's, from the data folder; else chain.rpcUrl)
      --contract ADDR  EnergyCredits address (default: chain.contract or the data folder's deployment)
      --from-block N   first block to scan for events (default 0)
      --format F       table (default), json or csv
      --out FILE       bundle file for audit export
      --participant P  participant id for audit proof`,
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    interval: { type: 'string' },
    rpc: { type: 'string' },
    contract: { type: 'string' },
    'from-block': { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    participant: { type: 'string' },
  },
  async run(ctx) {
    const sub = ctx.positionals[0];
    const cfgPath = str(ctx, 'config');
    // An audit reads the ledger and the chain: it needs none of the app's secrets.
    const { config } = loadConfig({ path: cfgPath, env: ctx.env, cwd: ctx.cwd, secrets: false });
    const minutes = config.market.intervalMinutes as IntervalMinutes;
    const step = intervalMs(minutes);
    const format = str(ctx, 'format') ?? (sub === 'verify' || sub === 'proof' ? 'json' : 'table');
    if (format !== 'table' && format !== 'json' && format !== 'csv')
      throw invalid('AUDIT_INPUT', '--format', format, 'table, json or csv');
    const fromBlockText = str(ctx, 'from-block');
    if (fromBlockText !== undefined && !/^\d+$/.test(fromBlockText))
      throw invalid('AUDIT_INPUT', '--from-block', fromBlockText, 'a block number');
    const fromBlock = fromBlockText === undefined ? undefined : BigInt(fromBlockText);
    const print = (report: Parameters<typeof reportToJson>[0]) => {
      ctx.stdout.write(
        format === 'json' ? reportToJson(report) : format === 'csv' ? reportToCsv(report) : reportToTable(report),
      );
      ctx.stderr.write(
        `audited ${report.intervals.length} intervals in ${report.seconds.toFixed(2)} s: ${report.intervalsPerSecond.toFixed(1)} intervals/s\n`,
      );
      return report.pass ? 0 : 1;
    };

    if (sub === 'verify') {
      const file = ctx.positionals[1];
      if (!file)
        throw new MicrogridError('USAGE', 'audit verify needs the bundle file', {
          field: 'BUNDLE',
          value: undefined,
          expected: 'mgx audit verify FILE --rpc URL',
        });
      const runtime = readRuntimeFile(resolve(ctx.cwd, dataDirOf(ctx)));
      const rpcUrl =
        str(ctx, 'rpc') ?? (runtime.state === 'running' ? runtime.info.rpcUrl : undefined) ?? config.chain.rpcUrl;
      if (!rpcUrl)
        throw new MicrogridError('AUDIT_INPUT', 'verify needs the chain', {
          field: '--rpc',
          value: undefined,
          expected: 'the URL of the chain RPC',
        });
      return print(
        await verifyBundle(resolve(ctx.cwd, file), { rpcUrl, ...(fromBlock !== undefined ? { fromBlock } : {}) }),
      );
    }
    if (sub !== undefined && sub !== 'export' && sub !== 'proof')
      throw invalid('USAGE', 'sub-command', sub, 'none, export, verify or proof');

    const chain = chainOf(ctx, config);
    const ledger = openLedger(join(dataDirOf(ctx), 'ledger.sqlite'), { readonly: true });
    try {
      if (sub === 'export' || sub === 'proof') {
        const start = aligned(ctx, 'interval', minutes);
        if (start === undefined)
          throw new MicrogridError('AUDIT_INPUT', `audit ${sub} needs --interval`, {
            field: '--interval',
            value: undefined,
            expected: 'an interval start, ISO 8601 UTC',
          });
        if (sub === 'export') {
          const out = str(ctx, 'out') ?? `audit-${Math.floor(start / 1000)}.json`;
          const r = await exportBundle({
            ledger,
            ...chain,
            start,
            intervalMs: step,
            tariffs: tariffsOf(config),
            meterData: meterDataRulesOf(config, meteredSpeed(ledger, config)),
            out: resolve(ctx.cwd, out),
            ...(fromBlock !== undefined ? { fromBlock } : {}),
          });
          ctx.stdout.write(
            `wrote ${r.path}: ${r.readings} signed readings, ${r.orders} orders, ${r.trades} trades, ${r.credits} credits, ${r.transactions} transactions\n`,
          );
          return 0;
        }
        const participant = str(ctx, 'participant');
        if (!participant)
          throw new MicrogridError('AUDIT_INPUT', 'audit proof needs --participant', {
            field: '--participant',
            value: undefined,
            expected: 'a participant id',
          });
        const proof = await householdProof({
          ledger,
          ...chain,
          start,
          intervalMs: step,
          meterData: meterDataRulesOf(config, meteredSpeed(ledger, config)),
          participant,
          ...(fromBlock !== undefined ? { fromBlock } : {}),
        });
        ctx.stdout.write(JSON.stringify(proof, null, 2) + '\n');
        return proof.verified ? 0 : 1;
      }
      const one = aligned(ctx, 'interval', minutes);
      const from = one ?? aligned(ctx, 'from', minutes) ?? 0;
      // Default end: past the ledger's newest interval, since a demo's accelerated market clock runs ahead of the wall.
      const newest = listIntervals(ledger, { limit: 1 })[0]?.start;
      const to =
        one !== undefined
          ? one + step
          : (aligned(ctx, 'to', minutes) ?? Math.max(Math.ceil(Date.now() / step) * step, newest ?? 0) + step);
      if (to <= from)
        throw new MicrogridError('AUDIT_INPUT', 'empty interval range', {
          field: '--to',
          value: str(ctx, 'to'),
          expected: `later than --from (${str(ctx, 'from')})`,
        });
      const onProgress = progressBar(ctx.stderr);
      const report = await runAudit({
        ledger,
        ...chain,
        from,
        to,
        intervalMs: step,
        tariffs: tariffsOf(config),
        meterData: meterDataRulesOf(config, meteredSpeed(ledger, config)),
        ...(fromBlock !== undefined ? { fromBlock } : {}),
        ...(onProgress ? { onProgress } : {}),
      });
      return print(report);
    } finally {
      ledger.close();
    }
  },
};
