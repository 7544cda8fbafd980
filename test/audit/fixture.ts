import { join } from 'node:path';
import type { Address, Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { openLedger, type Ledger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { insertReadings, setMeterGateway } from '../../ledger/readings.js';
import { demoConfig } from '../../core/config/demo.js';
import type { Config } from '../../core/config/schema.js';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type ReadingEvent } from '../../core/events.js';
import { READING_DOMAIN, READING_TYPES, readingMessage } from '../../core/reading-typed-data.js';
import { createCycleSteps } from '../../app/cycle-steps.js';
import { settleInterval } from '../../settlement/settle.js';
import { Submitter } from '../../settlement/submitter.js';
import { ANVIL_KEYS } from '../../settlement/chain/accounts.js';

export const T0 = Date.UTC(2027, 0, 15, 8, 0);
export const STEP = 900_000;
export const SETTLER_KEY = ANVIL_KEYS[0] as Hex;

export function auditConfig(): Config {
  const c = demoConfig(2, T0);
  // Readings are recorded at the interval boundaries only (recordEveryMs = the interval), as a gateway recording once
  // per interval would.
  return { ...c, market: { ...c.market, intervalMinutes: 15 }, bridge: { ...c.bridge, recordEveryMs: 900_000 } };
}

/**
 * A ledger produced the way the running app produces it: participants with
 * grid meters whose gateway is registered, readings at every boundary signed
 * (EIP-712) by the gateway key, then per interval the app's own metering and
 * metered clearing (app/cycle-steps.ts: interval energy, metered orders,
 * clearBook) and settlement. Some households get an account of their own.
 */
export async function buildLedger(
  dir: string,
  opts: { intervals: number; households: number; seed?: number },
): Promise<{ ledger: Ledger; path: string; starts: number[]; config: Config; gateway: Address }> {
  const config = auditConfig();
  const path = join(dir, 'ledger.sqlite');
  const ledger = openLedger(path);
  const key = generatePrivateKey();
  const gw = privateKeyToAccount(key);
  let s = (opts.seed ?? 1) >>> 0 || 1;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const ids = Array.from({ length: opts.households }, (_, i) => `h${String(i).padStart(4, '0')}`);
  for (const [i, id] of ids.entries()) {
    const account = i % 3 === 0 ? `0x${(0x20000 + i).toString(16).padStart(40, 'b')}` : undefined;
    upsertParticipant(
      ledger,
      {
        id,
        name: `Household ${i}`,
        zone: 'main',
        ...(account ? { account } : {}),
        meters: [{ id: `${id}-grid`, role: 'grid' }],
        policy: {},
      } as never,
      0,
    );
    setMeterGateway(ledger, `${id}-grid`, gw.address);
  }
  const counters = ids.map(() => ({ imp: 1_000_000, exp: 500_000 }));
  for (let k = 0; k <= opts.intervals; k++) {
    const ts = new Date(T0 + k * STEP).toISOString();
    const events: ReadingEvent[] = [];
    for (const [i, id] of ids.entries()) {
      const c = counters[i]!;
      // The power at each reading is that of the quarter hour just ended (sign: + import, − export), so the counters
      // and power agree.
      let powerW = 0;
      if (k > 0) {
        const exporter = rnd() < 0.5;
        const wh = 50 + Math.floor(rnd() * 1500);
        if (exporter) c.exp += wh;
        else c.imp += wh;
        powerW = (exporter ? -wh : wh) * 4;
      }
      const ev: ReadingEvent = {
        type: 'reading',
        meterId: `${id}-grid`,
        ts,
        powerW,
        importWh: c.imp,
        exportWh: c.exp,
        voltageV: 230.1,
        frequencyHz: 50,
        quality: 'good',
      };
      const signature = await gw.signTypedData({
        domain: READING_DOMAIN,
        types: READING_TYPES,
        primaryType: 'Reading',
        message: readingMessage(ev),
      });
      events.push({ ...ev, gateway: gw.address, signature });
    }
    insertReadings(ledger, events, T0 + k * STEP);
  }
  const steps = createCycleSteps({ ledger, config, clock: new ManualClock(T0), bus: new EventBus() });
  const starts: number[] = [];
  for (let k = 0; k < opts.intervals; k++) {
    const start = T0 + k * STEP;
    steps.meter(start);
    settleInterval(ledger, start, config);
    starts.push(start);
  }
  return { ledger, path, starts, config, gateway: gw.address };
}

/** Commits and mints every settled interval through the real Submitter until final. */
export async function submitAll(ledger: Ledger, rpcUrl: string, contract: Address): Promise<void> {
  const sub = new Submitter({
    ledger,
    rpcUrl,
    chainId: 31337,
    privateKey: SETTLER_KEY,
    contract,
    pollMs: 5,
    confirmations: 1,
  });
  await sub.drain(120_000);
}
