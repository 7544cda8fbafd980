import { accessSync, constants, existsSync, mkdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { createPublicClient, formatEther, http, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { openLedger } from '../../ledger/ledger.js';
import { anvilBinary } from '../../settlement/chain/anvil.js';
import { loadConfig } from '../load-config.js';
import { resolveSecret } from '../../core/config/secrets.js';
import { dataDirOf, type Command } from './command.js';
import { BusPool } from '../../meter-bridge/transport/bus-pool.js';
import { busSpecOf, probeDevice } from './probe-device.js';
import { probeMqttDevice } from './probe-mqtt-device.js';
import { isMqttDevice, type ModbusDeviceConfig } from '../../core/config/schema.js';
import { devicesFromConfig } from '../../meter-bridge/config.js';
import { readRuntimeFile } from '../runtime-file.js';

export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

const MIN_FREE_BYTES = 1024 ** 3;

function tcpReachable(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((done) => {
    const s = connect({ host, port });
    const t = setTimeout(() => (s.destroy(), done(`no answer within ${timeoutMs} ms`)), timeoutMs);
    s.once('connect', () => (clearTimeout(t), s.end(), done(null)));
    s.once('error', (e: NodeJS.ErrnoException) => (clearTimeout(t), done(e.code ?? e.message)));
  });
}

async function guard(name: string, fn: () => Promise<DoctorCheck | DoctorCheck[]>): Promise<DoctorCheck[]> {
  try {
    const r = await fn();
    return Array.isArray(r) ? r : [r];
  } catch (err) {
    // viem's messages run to several lines (URL, body, version): the first one says what failed.
    const first = ((err as Error).message ?? String(err)).split('\n')[0]!;
    return [
      {
        name,
        status: 'fail',
        detail: name === 'chain' ? `${first} — check chain.rpcUrl and that the node is up` : first,
      },
    ];
  }
}

/** `mgx doctor`: one line per check of what the microgrid needs, with what to do when one fails. */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check config, data folder, devices (one register each), chain and InfluxDB, one line each',
  usage: `      --format F       table (default) or json`,
  options: { format: { type: 'string' } },
  async run(ctx) {
    const checks: DoctorCheck[] = [];
    const cfgPath = ctx.values.config;
    const { config, source } = loadConfig({
      path: typeof cfgPath === 'string' ? cfgPath : undefined,
      env: ctx.env,
      cwd: ctx.cwd,
    });
    checks.push({
      name: 'config',
      status: 'ok',
      detail: `${source}: valid, ${config.participants.length} participants, ${config.bridge.devices.length} devices`,
    });

    const dataDir = resolve(ctx.cwd, dataDirOf(ctx));
    checks.push(
      ...(await guard('data folder', async () => {
        mkdirSync(dataDir, { recursive: true });
        const probe = join(dataDir, `.doctor-${process.pid}`);
        writeFileSync(probe, 'x');
        rmSync(probe);
        const fs = statfsSync(dataDir);
        const free = fs.bavail * fs.bsize;
        const gib = (free / 1024 ** 3).toFixed(1);
        return free < MIN_FREE_BYTES
          ? {
              name: 'data folder',
              status: 'warn',
              detail: `${dataDir}: writable, only ${gib} GiB free (keep at least 1 GiB for the ledger and spools)`,
            }
          : { name: 'data folder', status: 'ok', detail: `${dataDir}: writable, ${gib} GiB free` };
      })),
    );

    checks.push(
      ...(await guard('ledger', async () => {
        const file = join(dataDir, 'ledger.sqlite');
        if (!existsSync(file))
          return { name: 'ledger', status: 'ok', detail: 'not created yet (mgx start creates it)' };
        const l = openLedger(file, { readonly: true });
        try {
          const ok = l.db.pragma('quick_check', { simple: true });
          return {
            name: 'ledger',
            status: ok === 'ok' ? 'ok' : 'fail',
            detail:
              ok === 'ok'
                ? `${file}: consistent, ${l.appliedMigrations().length} migrations`
                : `${file}: ${String(ok)}`,
          };
        } finally {
          l.close();
        }
      })),
    );

    checks.push(
      ...(await guard('gateway key', async () => {
        const key = join(dataDir, 'gateway.key');
        if (!existsSync(key))
          return { name: 'gateway key', status: 'ok', detail: 'not created yet (mgx start creates it, mode 0600)' };
        const mode = statSync(key).mode & 0o777;
        return (mode & 0o077) === 0
          ? { name: 'gateway key', status: 'ok', detail: `${key}: mode 0${mode.toString(8)}` }
          : {
              name: 'gateway key',
              status: 'fail',
              detail: `${key}: mode 0${mode.toString(8)} lets others read it; run chmod 600 ${key}`,
            };
      })),
    );

    // The app on this data folder, as its runtime file says: a stale one is a crash or a kill worth knowing about.
    checks.push(
      ...(await guard('app', async () => {
        const rt = readRuntimeFile(dataDir);
        if (rt.state === 'absent') return { name: 'app', status: 'ok', detail: 'not running on this data folder' };
        if (rt.state === 'stale')
          return {
            name: 'app',
            status: 'warn',
            detail: `${rt.file} names pid ${rt.info.pid}, which no longer runs: the app was killed or crashed (the next mgx start replaces the file)`,
          };
        const r = await fetch(`${rt.info.url}/api/health`, { signal: AbortSignal.timeout(3000) }).catch(
          (e: Error) => e,
        );
        if (r instanceof Error)
          return {
            name: 'app',
            status: 'fail',
            detail: `pid ${rt.info.pid} runs but ${rt.info.url} does not answer (${r.message}): is it stuck? (mgx status shows the ledger side)`,
          };
        return r.ok
          ? { name: 'app', status: 'ok', detail: `running, pid ${rt.info.pid}, ${rt.info.url} answers` }
          : {
              name: 'app',
              status: 'fail',
              detail: `pid ${rt.info.pid} runs but ${rt.info.url}/api/health answered ${r.status}`,
            };
      })),
    );

    if (config.bridge.devices.length === 0) {
      checks.push({
        name: 'devices',
        status: config.demo.enabled ? 'ok' : 'warn',
        detail: config.demo.enabled
          ? 'demo: simulated households are started by mgx start'
          : 'no devices configured (bridge.devices) and demo off: nothing will be metered',
      });
    }
    // One real register per device, with its unit id: the bridge's own bus, one retry, the configured timeout.
    const pool = new BusPool({ timeoutMs: config.bridge.requestTimeoutMs, retries: 1, reconnectMinMs: 0 });
    try {
      const bridgeDevices = config.bridge.devices.some(isMqttDevice) ? devicesFromConfig(config) : [];
      for (const [i, dc] of config.bridge.devices.entries()) {
        const name = `device ${dc.id}`;
        if (isMqttDevice(dc)) {
          // An MQTT meter pushes: wait for a message on its topics, parsed by the bridge's own parser.
          const r = await probeMqttDevice(bridgeDevices[i]!, `bridge.devices[${i}].transport.password`, ctx.env);
          checks.push({ name, status: r.status, detail: r.detail });
          continue;
        }
        const d = dc as ModbusDeviceConfig;
        const where = d.transport.type === 'tcp' ? `${d.transport.host}:${d.transport.port}` : d.transport.path;
        if (d.transport.type === 'tcp') {
          const err = await tcpReachable(d.transport.host, d.transport.port, 2000);
          if (err) {
            checks.push({
              name,
              status: 'fail',
              detail: `${where} not reachable (${err}): check power, cabling and the IP address`,
            });
            continue;
          }
        } else {
          try {
            accessSync(d.transport.path, constants.R_OK | constants.W_OK);
          } catch (e) {
            checks.push({
              name,
              status: 'fail',
              detail: `${where}: ${(e as NodeJS.ErrnoException).code} — check the adapter and that this user may use it (group dialout)`,
            });
            continue;
          }
        }
        const r = await probeDevice(d, pool.get(busSpecOf(d)));
        checks.push({ name, status: r.ok ? 'ok' : 'fail', detail: `${where} ${r.detail}` });
      }
    } finally {
      await pool.close();
    }

    checks.push(
      ...(await guard('chain', async () => {
        if (!config.chain.rpcUrl) {
          const bin = anvilBinary();
          accessSync(bin, constants.X_OK);
          return { name: 'chain', status: 'ok', detail: `embedded anvil (${bin}) is installed and executable` };
        }
        const client = createPublicClient({ transport: http(config.chain.rpcUrl, { retryCount: 0, timeout: 5000 }) });
        const id = await client.getChainId();
        return config.chain.chainId !== undefined && id !== config.chain.chainId
          ? {
              name: 'chain',
              status: 'fail',
              detail: `${config.chain.rpcUrl} serves chain ${id}, the config says ${config.chain.chainId}`,
            }
          : {
              name: 'chain',
              status: 'ok',
              detail: `${config.chain.rpcUrl} reachable, chain ${id}, block ${await client.getBlockNumber()}`,
            };
      })),
    );
    if (config.chain.rpcUrl) {
      const rpcUrl = config.chain.rpcUrl;
      checks.push(
        ...(await guard('settler funds', async () => {
          if (!config.chain.privateKey)
            return {
              name: 'settler funds',
              status: 'fail',
              detail: 'chain.privateKey is not set: { env: NAME } or { file: PATH }',
            };
          const key = resolveSecret(config.chain.privateKey, 'chain.privateKey', ctx.env);
          const account = privateKeyToAccount((key.startsWith('0x') ? key : `0x${key}`) as Hex);
          const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: 5000 }) });
          const balance = await client.getBalance({ address: account.address });
          return balance > 0n
            ? {
                name: 'settler funds',
                status: 'ok',
                detail: `${account.address} holds ${formatEther(balance)} (native token)`,
              }
            : {
                name: 'settler funds',
                status: 'fail',
                detail: `${account.address} holds nothing: fund it to pay for settlement transactions`,
              };
        })),
      );
    }

    if (config.influx) {
      const url = config.influx.url.replace(/\/$/, '');
      checks.push(
        ...(await guard('influxdb', async () => {
          const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000) });
          return { name: 'influxdb', status: r.ok ? 'ok' : 'fail', detail: `${url}/health answered ${r.status}` };
        })),
      );
    }

    const format = ctx.values.format ?? 'table';
    if (format === 'json') ctx.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
    else {
      const mark = { ok: '✔', warn: '!', fail: '✖' } as const;
      const width = Math.max(...checks.map((c) => c.name.length));
      for (const c of checks) ctx.stdout.write(`${mark[c.status]} ${c.name.padEnd(width)}  ${c.detail}\n`);
      const failed = checks.filter((c) => c.status === 'fail').length;
      ctx.stdout.write(failed ? `\n${failed} check(s) failed.\n` : '\nAll checks passed.\n');
    }
    return checks.some((c) => c.status === 'fail') ? 1 : 0;
  },
};
