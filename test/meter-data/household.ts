import { freePort } from '../../meter-bridge/simulators/free-port.js';
import { startPeer, type PeerProcess } from './peer-process.js';
import { MINUTE, startScenario, type Scenario } from './scenario.js';

/** 2027-03-10T10:00Z: the first poll; intervals of 5 minutes from here. */
export const T0 = Date.UTC(2027, 2, 10, 10, 0);
export const INTERVAL = 5 * MINUTE;
export const at = (minute: number): number => T0 + minute * MINUTE;
export const iso = (minute: number): string => new Date(at(minute)).toISOString();

/** Accounts the households' credits land on. */
export const ACCOUNT = { h1: '0x00000000000000000000000000000000000000a1', h2: '0x00000000000000000000000000000000000000a2' } as const;

/**
 * Two households as an operator writes them in microgrid.yaml: h1 has PV
 * and a SunSpec device (inverter model 103 + meter model 203), h2 an
 * SDM630-style meter read through the built-in profile. Polls and records
 * once a minute of market time; intervals of 5 minutes.
 */
export function householdsYaml(o: { sunspecPort: number; sdmPort: number; h1RatedPowerW?: number; h2RatedPowerW?: number }): string {
  const rated = (w: number | undefined) => (w === undefined ? '' : `, ratedPowerW: ${w}`);
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
    - { id: h2-meter, kind: profile, profile: sdm630, transport: { type: tcp, host: 127.0.0.1, port: ${o.sdmPort} }, unitId: 1 }
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

/** Each minute h1 exports `exportPerMinWh` (3.6 kW) of the `pvPerMinWh` (4.8 kW) its PV makes, h2 imports `importPerMinWh` (6 kW). */
export const FLOW = { exportPerMinWh: 60, pvPerMinWh: 80, importPerMinWh: 100 } as const;

export async function startHouseholds(o: { h1RatedPowerW?: number; h2RatedPowerW?: number; sdmResolutionWh?: number; h1Counters?: { imp: number; exp: number } } = {}): Promise<Households> {
  const [sunspecPort, sdmPort] = [await freePort(), await freePort()];
  const sunspec = await startPeer('sunspec', { tcp: sunspecPort });
  const sdm = await startPeer('sdm630', { tcp: sdmPort }).catch(async (e: unknown) => {
    await sunspec.stop();
    throw e;
  });
  let sc: Scenario;
  try {
    await sunspec.send(`grid imp=${o.h1Counters?.imp ?? 1_000_000} exp=${o.h1Counters?.exp ?? 500_000} w=${-FLOW.exportPerMinWh * 60}`);
    await sunspec.send(`pv wh=3000000 w=${FLOW.pvPerMinWh * 60}`);
    await sdm.send(`grid imp=2000000 exp=0 w=${FLOW.importPerMinWh * 60}`);
    if (o.sdmResolutionWh) await sdm.send(`res ${o.sdmResolutionWh}`);
    sc = await startScenario(householdsYaml({ sunspecPort, sdmPort, ...(o.h1RatedPowerW ? { h1RatedPowerW: o.h1RatedPowerW } : {}), ...(o.h2RatedPowerW ? { h2RatedPowerW: o.h2RatedPowerW } : {}) }), T0);
  } catch (e) {
    await Promise.all([sunspec.stop(), sdm.stop()]);
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
    },
  };
}

/** The normal minute: both households' counters advance by FLOW (not at minute 0, the start). */
export async function normalMinute(h: Households, k: number): Promise<void> {
  if (k === 0) return;
  await h.sunspec.send(`add exp=${FLOW.exportPerMinWh} pv=${FLOW.pvPerMinWh}`);
  await h.sdm.send(`add imp=${FLOW.importPerMinWh}`);
}
