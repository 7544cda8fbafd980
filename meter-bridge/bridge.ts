import type { PrivateKeyAccount } from 'viem/accounts';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { BridgeContext } from './bridge-context.js';
import type { BridgeDevice } from './bridge-device.js';
import { scheduleCycles } from './cycle-schedule.js';
import type { DeviceReader } from './devices/measurement.js';
import { createRuntime, isPolled, isPush } from './device-runtime.js';
import type { DeviceHealth } from './health.js';
import { Inflight } from './inflight.js';
import { createIngest } from './ingest.js';
import type { BridgeLogger } from './logger.js';
import { createCycle, type CycleStats } from './poll-cycle.js';
import { subscribePushMeters } from './push-intake.js';
import type { CounterGuardOptions } from './readings/validate.js';
import { createSetUp } from './setup-queue.js';
import type { ReadingSink } from './sinks/reading-sink.js';
import { BusPool } from './transport/bus-pool.js';
import { MqttPool } from './transport/mqtt-pool.js';
import type { BusOptions, BusStats } from './transport/types.js';

export interface StartBridgeOptions {
  devices: readonly BridgeDevice[];
  /** Market time: reading timestamps. Polling runs on the wall clock (devices are real). */
  clock: Clock;
  bus: EventBus;
  sinks?: readonly ReadingSink[];
  log?: BridgeLogger;
  /** The gateway key; without it readings are not signed. */
  signer?: PrivateKeyAccount | null;
  pollIntervalMs?: number;
  /**
   * Every reading goes to the event bus and the time-series sink; once per
   * this period per meter (and every suspect reading) one is recorded: signed
   * and sent to the ledger / engine. Signing is ~1.5 ms of CPU, so signing
   * every 1 s poll of 1,000 meters would not fit one core. Meters are spread
   * over the period by a fixed phase from their id.
   */
  recordEveryMs?: number;
  offlineAfterCycles?: number;
  /**
   * Devices set up (connected, SunSpec discovery) at the same time. Setting up
   * is several requests and most of a device's CPU cost; 1,000 devices at once
   * blocked the event loop for up to 1.7 s, so replies sat unread until their
   * requests timed out and the first cycles overran. Default 32.
   */
  setupConcurrency?: number;
  transport?: Partial<BusOptions>;
  guard?: Partial<Omit<CounterGuardOptions, 'ratedPowerW'>>;
  /** Polling starts at once unless false (tests drive `pollOnce`). MQTT meters are subscribed either way: they push. */
  autoStart?: boolean;
  /** Where MQTT passwords ({ env }) are looked up; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface Bridge {
  stop(): Promise<void>;
  health(): DeviceHealth[];
  /**
   * Sets up the devices not set up yet (waiting for those being set up), then polls every device not already being
   * polled, once, and waits for them.
   */
  pollOnce(): Promise<CycleStats>;
  readonly gateway: string | null;
  readonly readers: readonly DeviceReader[];
  /** Modbus counters summed over every bus (requests on the wire, timeouts, retries, reconnects). */
  busStats(): BusStats;
  /** Called after every scheduled cycle (benchmark, logs). */
  onCycle: ((c: CycleStats) => void) | null;
}

/**
 * The meter bridge in-process: one bus per physical connection, one reader
 * per device, a poll per device per cycle, readings validated, recorded ones
 * signed, everything emitted on the event bus (`reading`, `device-health`).
 */
export function startBridge(opts: StartBridgeOptions): Bridge {
  const pollMs = opts.pollIntervalMs ?? 1000;
  const sinks = opts.sinks ?? [];
  const pool = new BusPool(opts.transport ?? {});
  const mqttPool = new MqttPool(opts.env);
  const ctx: BridgeContext = {
    clock: opts.clock,
    bus: opts.bus,
    log: opts.log,
    inflight: new Inflight(),
    stopped: false,
  };
  const runtimes = opts.devices.map((d) => createRuntime(d, pool, opts.offlineAfterCycles ?? 3));
  const polled = runtimes.filter(isPolled);
  const ingest = createIngest(ctx, {
    sinks,
    signer: opts.signer ?? null,
    recordEveryMs: opts.recordEveryMs ?? 60_000,
    guard: opts.guard ?? {},
  });

  try {
    subscribePushMeters(
      ctx,
      runtimes.flatMap((rt, index) => (isPush(rt) ? [{ rt, index }] : [])),
      mqttPool,
      ingest,
      pollMs,
    );
  } catch (err) {
    // A missing password (SECRET_MISSING) after other devices' connections were opened: close them, then fail the
    // start.
    mqttPool
      .close()
      .catch((e: unknown) =>
        opts.log?.warn({ err: (e as Error).message }, 'mqtt connections not closed after a failed start'),
      );
    throw err;
  }

  const setUp = createSetUp(ctx, opts.setupConcurrency ?? 32);
  const cycle = createCycle(ctx, polled, ingest, setUp);
  let stopCycles: (() => void) | undefined;
  const bridge: Bridge = {
    onCycle: null,
    gateway: opts.signer?.address ?? null,
    readers: polled.map((r) => r.reader),
    health: () => runtimes.map((r) => r.health.snapshot),
    busStats: () => pool.stats(),
    async pollOnce() {
      await Promise.all(polled.filter((rt) => rt.setup !== null || !rt.reader.ready).map(setUp));
      return cycle(Date.now(), false);
    },
    async stop() {
      ctx.stopped = true;
      stopCycles?.();
      // Closing the buses first fails queued requests at once, so a hanging
      // device does not hold the shutdown for timeout × retries.
      await Promise.all([pool.close(), mqttPool.close()]);
      await ctx.inflight.settled();
      for (const s of sinks) await s.close?.();
    },
  };

  if (opts.autoStart !== false) {
    // Set-up starts now rather than at the first cycle: the devices are being
    // discovered while the first cycles come due.
    // eslint-disable-next-line @typescript-eslint/no-floating-promises -- setUp records a failure in the device's health; it does not reject
    for (const rt of polled) void setUp(rt);
    stopCycles = scheduleCycles(pollMs, (due) => {
      ctx.inflight
        .track(cycle(due, true).then((c) => bridge.onCycle?.(c)))
        .catch((err: unknown) => opts.log?.error({ err }, 'poll cycle failed'));
    });
  }
  return bridge;
}
