import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../../meter-bridge/simulators/free-port.js';
import { startPeer, type PeerProcess } from './peer-process.js';
import { MINUTE, startScenario, type Scenario } from './scenario.js';

/** 2027-03-10T10:00Z: the first poll; intervals of 5 minutes from here. */
export const T0 = Date.UTC(2027, 2, 10, 10, 0);
export const INTERVAL = 5 * MINUTE;
export const at = (minute: number): number => T0 + minute * MINUTE;
export const iso = (minute: number): string => new Date(at(minute)).toISOString();

/** Accounts the households' credits land on. */
export const ACCOUNT = {
  h1: '0x00000000000000000000000000000000000000a1',
  h2: '0x00000000000000000000000000000000000000a2',
} as const;

/**
 * Two households as an operator writes them in microgrid.yaml: h1 has PV
 * and a SunSpec device (inverter model 103 + meter model 203), h2 an
 * SDM630-style meter read through the built-in profile. Polls and records
 * once a minute of market time; intervals of 5 minutes.
 */
export function householdsYaml(o: {
  sunspecPort: number;
  sdm: { port: number } | { path: string };
  h1RatedPowerW?: number;
  h2RatedPowerW?: number;
}): string {
  const rated = (w: number | undefined) => (w === undefined ? '' : `, ratedPowerW: ${w}`);
  // Eastron's default line is 9600 8E1; this peer's serial side is 9600 8N1 (pymodbus's default), as the config says.
  const sdm =
    'port' in o.sdm
      ? `{ type: tcp, host: 127.0.0.1, port: ${o.sdm.port} }`
      : `{ type: rtu, path: "${o.sdm.path}", baudRate: 9600, parity: none }`;
  return `
microgrid: { name: Peer street }
market:
  intervalMinutes: 5
  gracePeriodSeconds: 0
bridge:
  pollIntervalMs: 60000
  recordEveryMs: 60000
  requestTimeoutMs: 500
  retries: 1
  devices:
    - { id: h1-device, kind: sunspec, transport: { type: tcp, host: 127.0.0.1, port: ${o.sunspecPort} }, unitId: 1 }
    - { id: h2-meter, kind: profile, profile: sdm630, transport: ${sdm}, unitId: 1 }
participants:
  - id: h1
    name: Household 1 (PV)
    account: "${ACCOUNT.h1}"
    meters:
      - { id: h1-grid, role: grid, device: h1-device${rated(o.h1RatedPowerW)} }
      - { id: h1-pv, role: pv, device: h1-device }
  - id: h2
    name: Household 2
    account: "${ACCOUNT.h2}"
    meters:
      - { id: h2-grid, role: grid, device: h2-meter${rated(o.h2RatedPowerW)} }
`;
}

export interface Households {
  sc: Scenario;
  sunspec: PeerProcess;
  sdm: PeerProcess;
  /**
   * Minute by minute from `from` to `to` (inclusive): `before(k)` scripts the
   * devices (faults, counters), then every device is polled at minute k.
   */
  run(from: number, to: number, before: (k: number) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Counters at T0, Wh. Not round on purpose: the rules infer a reading's
 * resolution from the powers of ten its counters are multiples of.
 */
export const START = { h1Imp: 1_000_123, h1Exp: 500_077, pv: 3_000_041, h2Imp: 2_000_030 } as const;

/**
 * Each minute h1 exports `exportPerMinWh` (3.6 kW) of the `pvPerMinWh` (4.8 kW) its PV makes, h2 imports
 * `importPerMinWh` (6 kW).
 */
export const FLOW = { exportPerMinWh: 60, pvPerMinWh: 80, importPerMinWh: 100 } as const;

export interface HouseholdOptions {
  h1RatedPowerW?: number;
  h2RatedPowerW?: number;
  sdmResolutionWh?: number;
  h1Counters?: { imp: number; exp: number };
  /** The SDM630 over Modbus RTU through a socat pseudo-terminal pair instead of TCP. */
  sdmOverRtu?: boolean;
}

export async function startHouseholds(o: HouseholdOptions = {}): Promise<Households> {
  const sunspecPort = await freePort();
  const link = o.sdmOverRtu ? await startPtyPair() : null;
  const sdmPort = link ? 0 : await freePort();
  const sunspec = await startPeer('sunspec', { tcp: sunspecPort }).catch(async (e: unknown) => {
    await link?.stop();
    throw e;
  });
  const sdm = await startPeer('sdm630', link ? { rtu: link.b } : { tcp: sdmPort }).catch(async (e: unknown) => {
    await Promise.all([sunspec.stop(), link?.stop()]);
    throw e;
  });
  let sc: Scenario;
  try {
    await sunspec.send(
      `grid imp=${o.h1Counters?.imp ?? START.h1Imp} exp=${o.h1Counters?.exp ?? START.h1Exp} w=${-FLOW.exportPerMinWh * 60}`,
    );
    await sunspec.send(`pv wh=${START.pv} w=${FLOW.pvPerMinWh * 60}`);
    await sdm.send(`grid imp=${START.h2Imp} exp=0 w=${FLOW.importPerMinWh * 60}`);
    if (o.sdmResolutionWh) await sdm.send(`res ${o.sdmResolutionWh}`);
    sc = await startScenario(
      householdsYaml({
        sunspecPort,
        sdm: link ? { path: link.a } : { port: sdmPort },
        ...(o.h1RatedPowerW ? { h1RatedPowerW: o.h1RatedPowerW } : {}),
        ...(o.h2RatedPowerW ? { h2RatedPowerW: o.h2RatedPowerW } : {}),
      }),
      T0,
    );
  } catch (e) {
    await Promise.all([sunspec.stop(), sdm.stop(), link?.stop()]);
    throw e;
  }
  return {
    sc,
    sunspec,
    sdm,
    async run(from, to, before) {
      for (let k = from; k <= to; k++) {
        await before(k);
        await sc.pollAt(at(k));
      }
    },
    async close() {
      await sc.close();
      await Promise.all([sunspec.stop(), sdm.stop()]);
      await link?.stop();
    },
  };
}

/** The normal minute: both households' counters advance by FLOW (not at minute 0, the start). */
export async function normalMinute(h: Households, k: number): Promise<void> {
  if (k === 0) return;
  await h.sunspec.send(`add exp=${FLOW.exportPerMinWh} pv=${FLOW.pvPerMinWh}`);
  await h.sdm.send(`add imp=${FLOW.importPerMinWh}`);
}

/** A socat pseudo-terminal pair: the bridge opens `a`, the peer serves on `b`. */
async function startPtyPair(): Promise<{ a: string; b: string; stop(): Promise<void> }> {
  const dir = tempDir('mgx-pty-');
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const child = spawn('/usr/bin/socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socat not ready:\n${log}`)), 10_000);
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      if (/starting data transfer loop/.test(log) && existsSync(a) && existsSync(b)) {
        clearTimeout(timer);
        resolve();
      }
    });
    // eslint-disable-next-line @typescript-eslint/no-floating-promises -- exited only resolves
    void exited.then(() => reject(new Error(`socat exited:\n${log}`)));
  }).catch(async (e: unknown) => {
    await stop();
    throw e;
  });
  return { a, b, stop };
}
