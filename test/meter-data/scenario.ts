import { join } from 'node:path';
import { parseConfigText } from '../../core/config/validate.js';
import type { Config } from '../../core/config/schema.js';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type MicrogridEvent } from '../../core/events.js';
import { recoverReadingSigner } from '../../core/reading-typed-data.js';
import { openLedger, type Ledger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { insertReadings, listReadingsBefore, setMeterGateway, type StoredReading } from '../../ledger/readings.js';
import { listStatementSummaries } from '../../ledger/statements.js';
import { startBridgeFromConfig, type RunningBridge } from '../../meter-bridge/start-from-config.js';
import { createCycleSteps } from '../../app/cycle-steps.js';
import { followRatedPowers } from '../../app/rated-power.js';
import { settleInterval } from '../../settlement/settle.js';
import { tempDir } from '../helpers/tmp.js';

export const MINUTE = 60_000;

/**
 * A microgrid as an operator sets it up, in one process on a ManualClock:
 * microgrid.yaml text (devices, participants, meters), the bridge from that
 * config with the ledger as its store (signed readings), the app's metering
 * step and settlement. The test drives the devices (peer commands) and the
 * polls (`pollAt`), so every reading's time and value is known.
 */
export interface Scenario {
  config: Config;
  ledger: Ledger;
  clock: ManualClock;
  bus: EventBus;
  events: MicrogridEvent[];
  running: RunningBridge;
  dataDir: string;
  /** What the app would log about rated powers (followRatedPowers), in order. */
  log: string[];
  /** Moves market time to `t` and polls every device once. */
  pollAt(t: number): Promise<void>;
  /** The app's meter step and settlement for the interval starting at `start`. */
  meterAndSettle(start: number): void;
  /** The app's meter step alone (metered clearing included). */
  meter(start: number): void;
  settle(start: number): void;
  readings(meterId: string, from: number, to: number): StoredReading[];
  statements(start: number): ReturnType<typeof listStatementSummaries>;
  /** The signer of a stored reading (EIP-712 recovery): the bridge's gateway if untouched. */
  signerOf(r: StoredReading): Promise<string>;
  close(): Promise<void>;
}

export async function startScenario(yaml: string, t0: number): Promise<Scenario> {
  const config = parseConfigText(yaml, 'microgrid.yaml');
  const dataDir = tempDir('mgx-vee-');
  const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
  for (const p of config.participants) upsertParticipant(ledger, p, 0);
  const clock = new ManualClock(t0);
  const bus = new EventBus();
  const events: MicrogridEvent[] = [];
  bus.onAny((e) => void events.push(e));
  const running = await startBridgeFromConfig({
    config,
    clock,
    bus,
    dataDir,
    store: { insertReadings: (rs) => insertReadings(ledger, rs, clock.now()) },
    autoStart: false,
  });
  for (const id of running.meterIds) setMeterGateway(ledger, id, running.gateway);
  // As app/start.ts does: the rated power each meter's data is validated with (a SunSpec nameplate once discovered).
  const log: string[] = [];
  followRatedPowers({
    ledger,
    config,
    readers: running.bridge.readers,
    bus,
    log: { warn: (_o, m) => void log.push(`warn: ${m}`), info: (_o, m) => void log.push(`info: ${m}`) },
  });
  const steps = createCycleSteps({ ledger, config, clock, bus });
  return {
    config,
    ledger,
    clock,
    bus,
    events,
    running,
    dataDir,
    log,
    async pollAt(t) {
      await clock.advanceTo(t);
      await running.bridge.pollOnce();
    },
    meterAndSettle(start) {
      steps.meter(start);
      settleInterval(ledger, start, config, clock.now());
    },
    meter: (start) => steps.meter(start),
    settle: (start) => void settleInterval(ledger, start, config, clock.now()),
    readings: (meterId, from, to) => listReadingsBefore(ledger, meterId, from, to),
    statements: (start) => listStatementSummaries(ledger, { start }),
    signerOf: (r) =>
      recoverReadingSigner({
        type: 'reading',
        meterId: r.meterId,
        ts: new Date(r.ts).toISOString(),
        powerW: r.powerW,
        importWh: r.importWh,
        exportWh: r.exportWh,
        voltageV: r.voltageV,
        frequencyHz: r.frequencyHz,
        quality: r.quality,
        signature: r.signature ?? '',
      }),
    async close() {
      await running.stop();
      ledger.close();
    },
  };
}
