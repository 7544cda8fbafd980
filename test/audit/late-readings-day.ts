import { join } from 'node:path';
import type { Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { validateConfig } from '../../core/config/validate.js';
import type { Config } from '../../core/config/schema.js';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type ReadingEvent } from '../../core/events.js';
import { READING_DOMAIN, READING_TYPES, readingMessage } from '../../core/reading-typed-data.js';
import { openLedger, type Ledger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { insertReadings, setMeterGateway } from '../../ledger/readings.js';
import { setMeterRatedPower } from '../../ledger/meter-data.js';
import { createCycleSteps } from '../../app/cycle-steps.js';
import { settleInterval } from '../../settlement/settle.js';

/**
 * A microgrid day whose readings do not all arrive when they were measured:
 * households with one grid meter each, a reading a minute (the counters
 * linear in market time, power agreeing with them), each reading delivered
 * to the ledger at a minute the test chooses — on time, later (a gateway's
 * spool flushed after its link came back, in order), or never (the device
 * was off). The app's metering step runs one minute after each interval
 * ends, on a ManualClock, and settlement after it; within a minute the
 * readings delivered then are stored before the step, or after it when
 * `meterFirst` says so (the same millisecond of market time).
 */

export const T0 = Date.UTC(2027, 5, 1, 9, 0);
export const MIN = 60_000;
export const INTERVAL = 5 * MIN;

export interface Household {
  importPerMin: number;
  exportPerMin: number;
}

export interface LateDayOptions {
  households: readonly Household[];
  /** Intervals metered and settled: 0 … intervals − 1. */
  intervals: number;
  /** The minute reading k of household h reaches the ledger (≥ k), or null: never measured. */
  deliveredAt: (h: number, k: number) => number | null;
  /** Whether, in minute m, the metering step runs before that minute's deliveries. */
  meterFirst?: (m: number) => boolean;
  /** Sign readings with a gateway key (the audit's check 1); off for pure re-validation. */
  sign?: boolean;
  /** meterData.holdWindowHours (default 48): undecided holds are estimated at the first metering step after it. */
  holdWindowHours?: number;
}

export interface LateDay {
  ledger: Ledger;
  config: Config;
  clock: ManualClock;
  gateway: Address | null;
  starts: number[];
  /** The true counters of household h at minute k. */
  counter: (h: number, k: number) => { importWh: number; exportWh: number };
  /** Minutes readings were generated for: 0 … minutes. */
  minutes: number;
  /** Meters and settles one more interval at the current clock (for carrying decisions). */
  meterAndSettle: (start: number) => void;
}

export const meterId = (h: number): string => `h${h}-grid`;
/** The minute interval n is metered in: one minute after it ends. */
export const meteringMinute = (n: number): number => 5 * n + 6;

export function lateDayConfig(households: number, holdWindowHours?: number): Config {
  return validateConfig({
    market: { intervalMinutes: 5 },
    ...(holdWindowHours !== undefined ? { meterData: { holdWindowHours } } : {}),
    bridge: { pollIntervalMs: 60_000, recordEveryMs: 60_000 },
    participants: Array.from({ length: households }, (_, i) => ({
      id: `h${i}`,
      name: `H${i}`,
      meters: [{ id: meterId(i), role: 'grid', ratedPowerW: 10_000 }],
    })),
  });
}

export async function lateDay(dir: string, o: LateDayOptions): Promise<LateDay> {
  const config = lateDayConfig(o.households.length, o.holdWindowHours);
  const ledger = openLedger(join(dir, 'ledger.sqlite'));
  for (const p of config.participants) upsertParticipant(ledger, p, 0);
  for (const p of config.participants)
    for (const m of p.meters) setMeterRatedPower(ledger, m.id, m.ratedPowerW!, 'config');
  const gw = o.sign ? privateKeyToAccount(generatePrivateKey()) : null;
  if (gw) for (const p of config.participants) for (const m of p.meters) setMeterGateway(ledger, m.id, gw.address);
  const counter = (h: number, k: number) => ({
    importWh: 1_000_017 + o.households[h]!.importPerMin * k,
    exportWh: 500_033 + o.households[h]!.exportPerMin * k,
  });
  const minutes = meteringMinute(o.intervals - 1);
  // Every reading, signed once, filed under the minute it is delivered.
  const byMinute = new Map<number, ReadingEvent[]>();
  for (let k = 0; k <= minutes; k++) {
    for (const [h, hh] of o.households.entries()) {
      const at = o.deliveredAt(h, k);
      if (at === null) continue;
      const c = counter(h, k);
      const ev: ReadingEvent = {
        type: 'reading',
        meterId: meterId(h),
        ts: new Date(T0 + k * MIN).toISOString(),
        powerW: (hh.importPerMin - hh.exportPerMin) * 60,
        importWh: c.importWh,
        exportWh: c.exportWh,
        voltageV: 230,
        frequencyHz: 50,
        quality: 'good',
      };
      const signed = gw
        ? {
            ...ev,
            gateway: gw.address,
            signature: await gw.signTypedData({
              domain: READING_DOMAIN,
              types: READING_TYPES,
              primaryType: 'Reading',
              message: readingMessage(ev),
            }),
          }
        : ev;
      const list = byMinute.get(Math.max(at, k)) ?? [];
      list.push(signed);
      byMinute.set(Math.max(at, k), list);
    }
  }
  const clock = new ManualClock(T0);
  const steps = createCycleSteps({ ledger, config, clock, bus: new EventBus() });
  const meterAndSettle = (start: number): void => {
    steps.meter(start);
    settleInterval(ledger, start, config, clock.now());
  };
  const starts: number[] = [];
  for (let m = 0; m <= minutes; m++) {
    await clock.advanceTo(T0 + m * MIN);
    const n = (m - 6) / 5;
    const metering = Number.isInteger(n) && n >= 0 && n < o.intervals;
    const deliver = (): void => {
      const batch = byMinute.get(m);
      if (batch) insertReadings(ledger, batch, clock.now());
    };
    if (metering && o.meterFirst?.(m)) {
      meterAndSettle(T0 + n * INTERVAL);
      deliver();
    } else {
      deliver();
      if (metering) meterAndSettle(T0 + n * INTERVAL);
    }
    if (metering) starts.push(T0 + n * INTERVAL);
  }
  return { ledger, config, clock, gateway: gw?.address ?? null, starts, counter, minutes, meterAndSettle };
}
