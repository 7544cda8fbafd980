import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config/schema.js';
import type { EventBus } from '../core/events.js';
import { startBridge, type Bridge } from './bridge.js';
import type { BridgeLogger } from './logger.js';
import type { ReadingSink } from './sinks/reading-sink.js';
import {
  bridgeOptionsFromConfig,
  devicesFromConfig,
  influxSinkFromConfig,
  startDemoDevices,
  type DemoDevices,
} from './config.js';
import { loadGatewayKey } from './readings/gateway-key.js';
import { createStoreSink, type ReadingStore } from './sinks/store-sink.js';

export interface StartBridgeFromConfigOptions {
  config: Config;
  /** Market time (readings' timestamps; the simulators' day). */
  clock: Clock;
  bus: EventBus;
  /** `<dataDir>/gateway.key`, `<dataDir>/influx-spool/`. */
  dataDir: string;
  /** The ledger, in process: `{ insertReadings: (rs) => insertReadings(ledger, rs, clock.now()) }`. */
  store?: ReadingStore;
  log?: BridgeLogger;
  env?: NodeJS.ProcessEnv;
  /** false: do not poll on a timer (tests call bridge.pollOnce()). */
  autoStart?: boolean;
}

export interface RunningBridge {
  bridge: Bridge;
  /** The gateway address that signs this process's readings: register it as `meters.gateway` of the meters it reads. */
  gateway: string;
  /** Meter ids this bridge produces readings for. */
  meterIds: string[];
  /** The simulated households when the demo runs without `bridge.devices`. */
  demo: DemoDevices | null;
  stop(): Promise<void>;
}

/**
 * The bridge as the app runs it in process: devices from `bridge.devices`,
 * or, with none configured and `demo.enabled`, one simulated household per
 * participant on loopback; readings signed with the gateway key; signed ones
 * into the ledger store, all of them into InfluxDB when `influx` is set.
 */
export async function startBridgeFromConfig(o: StartBridgeFromConfigOptions): Promise<RunningBridge> {
  const { config } = o;
  const demo =
    config.bridge.devices.length === 0 && config.demo.enabled
      ? await startDemoDevices(config, o.clock, '127.0.0.1', join(o.dataDir, 'simulators'))
      : null;
  const devices = demo ? demo.devices : devicesFromConfig(config);
  const signer = loadGatewayKey(o.dataDir);
  const sinks: ReadingSink[] = [];
  if (o.store) sinks.push(createStoreSink(o.store));
  const influx = influxSinkFromConfig(config, o.dataDir, o.env ?? process.env, o.log);
  if (influx) sinks.push(influx);
  const opts = bridgeOptionsFromConfig(config);
  const bridge = startBridge({
    devices,
    clock: o.clock,
    bus: o.bus,
    sinks,
    signer,
    ...opts,
    // The demo's households are their own TCP hosts: no RTU gap to respect.
    ...(demo ? { transport: { ...opts.transport, gapMs: 0 } } : {}),
    ...(o.log ? { log: o.log } : {}),
    ...(o.autoStart === false ? { autoStart: false } : {}),
  });
  const meterIds = devices.flatMap((d) =>
    d.kind === 'sunspec'
      ? d.meters
        ? [d.meters.grid, d.meters.pv].filter((x): x is string => x !== undefined)
        : [d.id]
      : [d.meterId ?? d.id],
  );
  return {
    bridge,
    gateway: signer.address,
    meterIds,
    demo,
    async stop() {
      await bridge.stop();
      await demo?.close();
    },
  };
}
