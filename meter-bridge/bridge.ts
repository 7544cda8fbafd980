import type { PrivateKeyAccount } from 'viem/accounts';
import type { Clock } from '../core/clock.js';
import type { EventBus, ReadingEvent } from '../core/events.js';
import type { DeviceReader, Measurement } from './devices/measurement.js';
import { createPushMeter, type MqttSpec, type PushMeter } from './devices/mqtt-meter.js';
import type { TasmotaTotal } from './devices/tasmota.js';
import { MqttPool } from './transport/mqtt-pool.js';
import { HealthTracker, type DeviceHealth } from './health.js';
import { loadProfile, type Profile } from './profiles/load.js';
import { ProfileReader } from './profiles/device.js';
import { CounterGuard, type CounterGuardOptions } from './readings/validate.js';
import { signReading } from './readings/sign.js';
import { SunSpecReader } from './sunspec/device.js';
import { BusPool } from './transport/bus-pool.js';
import type { BusOptions, BusSpec, BusStats } from './transport/types.js';

export interface BridgeDevice {
  id: string;
  /** sunspec, profile: polled over Modbus (transport tcp/rtu); tasmota, shelly-gen2: push over MQTT (transport mqtt). */
  kind: 'sunspec' | 'profile' | 'tasmota' | 'shelly-gen2';
  transport: BusSpec | MqttSpec;
  /** Modbus kinds only (0 for MQTT kinds). */
  unitId: number;
  /** Built-in profile name (sdm630, sdm120, em24), a profile file path, or a parsed profile; kind profile only. */
  profile?: string | Profile;
  /** Largest plausible power of the meter(s), W: counters that grow faster are suspect. */
  ratedPowerW?: number;
  /** SunSpec: which meter id the meter model and the inverter model feed (default: the device id for the one found). */
  meters?: { grid?: string; pv?: string };
  /** Profile, MQTT kinds: the meter id (default: the device id). */
  meterId?: string;
  /** MQTT kinds: which meter the device is (pv swaps the directions: what it counts as drawn is the inverter's output). Default grid. */
  role?: 'grid' | 'pv';
  /** tasmota: what ENERGY.Total counts (import, or import − export on chips that meter both ways). */
  tasmotaTotal?: TasmotaTotal;
}

/** Where readings go. `signedOnly` sinks (ledger, push) receive only recorded, signed readings. */
export interface ReadingSink {
  name: string;
  signedOnly: boolean;
  write(readings: ReadingEvent[]): void | Promise<void>;
  close?(): Promise<void>;
}

export interface BridgeLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

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

export interface CycleStats {
  /** When the cycle was due (epoch ms, wall clock). Cycles can overlap, so they may finish out of order. */
  scheduledAt: number;
  /** Wall time from the cycle's scheduled start until its last poll finished, ms. */
  durationMs: number;
  /** How late the cycle started, ms. */
  lagMs: number;
  polled: number;
  /** Set-up devices not polled because their previous poll was still running: the cycle is late for them. */
  skipped: number;
  /** Devices not set up yet (connecting, SunSpec discovery, or retrying that): not polled, not late. */
  settingUp: number;
}

export interface Bridge {
  stop(): Promise<void>;
  health(): DeviceHealth[];
  /** Sets up the devices not set up yet (waiting for those being set up), then polls every device not already being polled, once, and waits for them. */
  pollOnce(): Promise<CycleStats>;
  readonly gateway: string | null;
  readonly readers: readonly DeviceReader[];
  /** Modbus counters summed over every bus (requests on the wire, timeouts, retries, reconnects). */
  busStats(): BusStats;
  /** Called after every scheduled cycle (benchmark, logs). */
  onCycle: ((c: CycleStats) => void) | null;
}

interface DeviceRuntime {
  device: BridgeDevice;
  /** Polled devices (Modbus); null for MQTT meters, which push. */
  reader: DeviceReader | null;
  push: PushMeter | null;
  health: HealthTracker;
  guards: Map<string, CounterGuard>;
  lastRecordSlot: Map<string, number>;
  /** A poll or the set-up is running. */
  busy: boolean;
  /** The set-up in progress (queued or running), if any. */
  setup: Promise<void> | null;
  /** MQTT meters: market time of the last measurement taken. */
  lastPushTs: number | null;
}

function phaseOf(id: string, period: number): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return (h >>> 0) % period;
}

/**
 * The meter bridge in-process: one bus per physical connection, one reader
 * per device, a poll per device per cycle, readings validated, recorded ones
 * signed, everything emitted on the event bus (`reading`, `device-health`).
 */
export function startBridge(opts: StartBridgeOptions): Bridge {
  const pollMs = opts.pollIntervalMs ?? 1000;
  const recordMs = opts.recordEveryMs ?? 60_000;
  const pool = new BusPool(opts.transport ?? {});
  const sinks = opts.sinks ?? [];
  const mqttPool = new MqttPool(opts.env);
  const runtimes: DeviceRuntime[] = opts.devices.map((d) => {
    const base = { device: d, health: new HealthTracker(d.id, opts.offlineAfterCycles ?? 3), guards: new Map(), lastRecordSlot: new Map(), busy: false, setup: null, lastPushTs: null };
    if (d.transport.type === 'mqtt') {
      if (d.kind !== 'tasmota' && d.kind !== 'shelly-gen2') throw new Error(`device ${d.id}: kind ${d.kind} is not an MQTT kind`);
      const push = createPushMeter({ deviceId: d.id, kind: d.kind, topic: d.transport.topic, meterId: d.meterId ?? d.id, role: d.role ?? 'grid', ...(d.tasmotaTotal ? { tasmotaTotal: d.tasmotaTotal } : {}) });
      return { ...base, reader: null, push };
    }
    const bus = pool.get(d.transport);
    const reader: DeviceReader =
      d.kind === 'sunspec'
        ? new SunSpecReader({ deviceId: d.id, bus, unitId: d.unitId, ...(d.meters ? { meters: d.meters } : {}) })
        : new ProfileReader({
            deviceId: d.id,
            bus,
            unitId: d.unitId,
            profile: typeof d.profile === 'object' ? d.profile : loadProfile(d.profile ?? ''),
            ...(d.meterId !== undefined ? { meterId: d.meterId } : {}),
          });
    return { ...base, reader, push: null };
  });
  const polled = runtimes.filter((rt): rt is DeviceRuntime & { reader: DeviceReader } => rt.reader !== null);

  const emitHealth = (rt: DeviceRuntime): void => opts.bus.emit(rt.health.event());

  const deliver = async (readings: ReadingEvent[]): Promise<void> => {
    if (readings.length === 0) return;
    const signed = readings.filter((r) => r.signature !== undefined);
    for (const s of sinks) {
      const batch = s.signedOnly ? signed : readings;
      if (batch.length === 0) continue;
      try {
        await s.write(batch);
      } catch (err) {
        opts.log?.error({ err, sink: s.name }, 'reading sink failed');
      }
    }
  };

  const toReading = async (rt: DeviceRuntime, m: Measurement, ts: number): Promise<ReadingEvent> => {
    let guard = rt.guards.get(m.meterId);
    if (!guard) rt.guards.set(m.meterId, (guard = new CounterGuard({ ...opts.guard, ...(rt.device.ratedPowerW ? { ratedPowerW: rt.device.ratedPowerW } : {}) })));
    const c = guard.check(m, ts);
    const r: ReadingEvent = {
      type: 'reading',
      meterId: m.meterId,
      ts: new Date(ts).toISOString(),
      powerW: m.powerW,
      importWh: c.importWh,
      exportWh: c.exportWh,
      voltageV: m.voltageV,
      frequencyHz: m.frequencyHz,
      quality: c.quality,
    };
    if (c.reasons.length > 0) r.reasons = c.reasons;
    const slot = Math.floor((ts + phaseOf(m.meterId, recordMs)) / recordMs);
    const record = rt.lastRecordSlot.get(m.meterId) !== slot || c.quality !== 'good';
    if (record && opts.signer) {
      rt.lastRecordSlot.set(m.meterId, slot);
      return signReading(opts.signer, r);
    }
    return r;
  };

  /**
   * The one path from measurements to readings, for polled and pushed devices
   * alike: counter plausibility, signing once per recordEveryMs (and every
   * suspect reading), the event bus, the sinks.
   */
  const ingest = async (rt: DeviceRuntime, ms: Measurement[], ts: number): Promise<void> => {
    const readings = await Promise.all(ms.map((m) => toReading(rt, m, ts)));
    for (const r of readings) opts.bus.emit(r);
    await deliver(readings);
  };

  const poll = async (rt: DeviceRuntime & { reader: DeviceReader }): Promise<void> => {
    rt.busy = true;
    const t0 = performance.now();
    try {
      const ms = await rt.reader.read();
      const ts = opts.clock.now();
      const asleep = ms.length > 0 && ms.every((m) => m.asleep === true);
      if (rt.health.success(new Date(ts).toISOString(), performance.now() - t0, rt.reader.requestsPerRead, asleep)) emitHealth(rt);
      await ingest(rt, ms, ts);
    } catch (err) {
      const changed = rt.health.failure(new Date(opts.clock.now()).toISOString(), err);
      if (changed) {
        emitHealth(rt);
        opts.log?.warn({ device: rt.device.id, err: (err as Error).message }, `device ${rt.health.snapshot.status}`);
      }
    } finally {
      rt.busy = false;
    }
  };

  // Messages of one device are taken in order: a reading waits for the one before it (its guard state, its signature).
  const pushChains = new Map<DeviceRuntime, Promise<void>>();
  const onPush = (rt: DeviceRuntime & { push: PushMeter }, topic: string, payload: Buffer): void => {
    const prev = pushChains.get(rt) ?? Promise.resolve();
    // A failure of one message (a sink, signing) must not stop the chain: the next message is still taken.
    const next = prev
      .catch(() => {})
      .then(() => (stopped ? undefined : receive(rt, topic, payload)))
      .catch((err: unknown) => opts.log?.error({ err, device: rt.device.id, topic }, `device ${rt.device.id}: message on ${topic} failed`));
    pushChains.set(rt, next);
    // eslint-disable-next-line @typescript-eslint/no-floating-promises -- next ends in .catch: it does not reject
    void track(next);
  };
  const receive = async (rt: DeviceRuntime & { push: PushMeter }, topic: string, payload: Buffer): Promise<void> => {
    const ts = opts.clock.now();
    const at = new Date(ts).toISOString();
    let ev;
    try {
      ev = rt.push.handle(topic, payload, ts);
    } catch (err) {
      // One bad message: logged with device, topic, field and value, counted, no reading; the next one is taken.
      rt.health.rejected(at, err);
      const n = rt.health.snapshot.rejectedMessages;
      const e = err as { message?: string; field?: string; value?: unknown };
      // A device that sends garbage every second must not flood the log: the first ten, then every hundredth.
      if (n <= 10 || n % 100 === 0) opts.log?.warn({ device: rt.device.id, topic, field: e.field, value: e.value, rejected: n }, `device ${rt.device.id}: message on ${topic} refused: ${e.message ?? String(err)}`);
      return;
    }
    if (ev.type === 'availability') {
      if (rt.health.availability(at, ev.online, ev.online ? null : `the device said offline on ${topic}`)) {
        emitHealth(rt);
        opts.log?.info({ device: rt.device.id, topic }, `device ${rt.device.id} ${rt.health.snapshot.status} (${topic})`);
      }
      return;
    }
    if (ev.type !== 'measurement') return;
    // A device publishing faster than the poll period (a flood, or a status notification per change) is taken at most
    // once per poll period of market time, as a polled device is read: each suspect reading costs a signature.
    if (rt.lastPushTs !== null && ts >= rt.lastPushTs && ts - rt.lastPushTs < pollMs) {
      rt.health.dropped();
      return;
    }
    rt.lastPushTs = ts;
    if (rt.health.success(at, 0, 0)) emitHealth(rt);
    await ingest(rt, [ev.measurement], ts);
  };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => {});
    return p;
  };

  try {
    subscribeAll();
  } catch (err) {
    // A missing password (SECRET_MISSING) after other devices' connections were opened: close them, then fail the start.
    mqttPool.close().catch((e: unknown) => opts.log?.warn({ err: (e as Error).message }, 'mqtt connections not closed after a failed start'));
    throw err;
  }
  function subscribeAll(): void {
    for (const rt of runtimes) {
      if (!rt.push || rt.device.transport.type !== 'mqtt') continue;
      const r = rt as DeviceRuntime & { push: PushMeter };
      const i = opts.devices.indexOf(rt.device);
      mqttPool.subscribe(
        rt.device.transport,
        r.push.topics,
        (topic, payload) => onPush(r, topic, payload),
        (up, reason) => {
          if (up || stopped) return;
          if (rt.health.unreachable(new Date(opts.clock.now()).toISOString(), reason ?? 'broker unreachable')) {
            emitHealth(rt);
            opts.log?.warn({ device: rt.device.id, err: reason }, `device ${rt.device.id} ${rt.health.snapshot.status}: ${reason}`);
          }
        },
        `bridge.devices[${i}].transport.password`,
      );
    }
  }

  // Set-ups wait for one of `setupConcurrency` slots, outside the cycles: a
  // cycle polls only devices that are set up, so connecting and discovering
  // neither lengthen a cycle nor make the next one skip a device still busy
  // discovering (which counted it as missed and could mark it offline).
  let slots = Math.max(1, opts.setupConcurrency ?? 32);
  const slotWaiters: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (slots > 0) {
      slots--;
      return Promise.resolve();
    }
    return new Promise((resolve) => slotWaiters.push(resolve));
  };
  const release = (): void => {
    const next = slotWaiters.shift();
    if (next) next();
    else slots++;
  };
  const setUp = (rt: DeviceRuntime): Promise<void> => {
    if (rt.setup) return rt.setup;
    rt.busy = true;
    rt.setup = track(
      (async () => {
        await acquire();
        try {
          if (!stopped) await rt.reader?.prepare();
        } catch (err) {
          // A set-up cut short by stop() is not the device's failure.
          if (stopped) return;
          if (rt.health.failure(new Date(opts.clock.now()).toISOString(), err)) {
            emitHealth(rt);
            opts.log?.warn({ device: rt.device.id, err: (err as Error).message }, `device ${rt.health.snapshot.status}`);
          }
        } finally {
          release();
          rt.busy = false;
          rt.setup = null;
        }
      })(),
    );
    return rt.setup;
  };

  /** `setUpNew`: start setting up devices that are not set up (scheduled cycles); pollOnce has just tried. */
  const cycle = async (scheduledAt: number, setUpNew: boolean): Promise<CycleStats> => {
    const start = Date.now();
    const running: Promise<void>[] = [];
    let skipped = 0;
    let settingUp = 0;
    for (const rt of polled) {
      if (rt.setup || !rt.reader.ready) {
        settingUp++;
        // eslint-disable-next-line @typescript-eslint/no-floating-promises -- setUp records a failure in the device's health; it does not reject
        if (setUpNew && !rt.setup) void setUp(rt);
        continue;
      }
      if (rt.busy) {
        skipped++;
        if (rt.health.missed()) emitHealth(rt);
        continue;
      }
      running.push(poll(rt));
    }
    await Promise.all(running);
    return { scheduledAt, durationMs: Date.now() - scheduledAt, lagMs: start - scheduledAt, polled: running.length, skipped, settingUp };
  };
  const setUpAll = async (): Promise<void> => {
    await Promise.all(polled.filter((rt) => rt.setup !== null || !rt.reader.ready).map((rt) => setUp(rt)));
  };
  const bridge: Bridge = {
    onCycle: null,
    gateway: opts.signer?.address ?? null,
    readers: polled.map((r) => r.reader),
    health: () => runtimes.map((r) => r.health.snapshot),
    busStats: () => pool.stats(),
    async pollOnce() {
      await setUpAll();
      return cycle(Date.now(), false);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      // Closing the buses first fails queued requests at once, so a hanging
      // device does not hold the shutdown for timeout × retries.
      await Promise.all([pool.close(), mqttPool.close()]);
      await Promise.allSettled([...inflight]);
      for (const s of sinks) await s.close?.();
    },
  };

  // Cycles are aligned to multiples of the poll interval on the wall clock, so
  // a slow cycle does not shift the next one; a device still busy is skipped.
  const schedule = (): void => {
    if (stopped) return;
    const next = Math.ceil((Date.now() + 1) / pollMs) * pollMs;
    timer = setTimeout(() => {
      track(cycle(next, true).then((c) => bridge.onCycle?.(c))).catch((err: unknown) => opts.log?.error({ err }, 'poll cycle failed'));
      schedule();
    }, next - Date.now());
  };
  if (opts.autoStart !== false) {
    // Set-up starts now rather than at the first cycle: the devices are being
    // discovered while the first cycles come due.
    // eslint-disable-next-line @typescript-eslint/no-floating-promises -- setUp records a failure in the device's health; it does not reject
    for (const rt of polled) void setUp(rt);
    schedule();
  }
  return bridge;
}
