import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createPublicClient, http, type Hex } from 'viem';
import type { Config } from '../core/config/schema.js';
import type { Clock } from '../core/clock.js';
import { EventBus } from '../core/events.js';
import { intervalEnd, intervalStartOf, toIso } from '../core/interval.js';
import { Metrics } from '../core/metrics.js';
import { METRICS } from '../core/metric-names.js';
import { openLedger, type Ledger } from '../ledger/ledger.js';
import { setMeterDevice, upsertParticipant } from '../ledger/participants.js';
import { countMeterHolds, listMeterHolds, meterSeriesReadings, metersForValidation } from '../ledger/meter-data.js';
import { clearMeterDataAlarms } from './meter-data-alarms.js';
import { DEFAULT_RATED_POWER_W, readingVerdicts } from '../settlement/meter-data/index.js';
import { followRatedPowers } from './rated-power.js';
import { decideHold } from '../settlement/holds.js';
import type { MeterHoldDecisionRequest } from '../dashboard/deps.js';
import { countIntervalsByState } from '../ledger/intervals.js';
import { insertReadings, setMeterGateway } from '../ledger/readings.js';
import { startBridge, type Bridge } from '../meter-bridge/bridge.js';
import type { ReadingSink } from '../meter-bridge/sinks/reading-sink.js';
import {
  bridgeOptionsFromConfig,
  devicesFromConfig,
  influxSinkFromConfig,
  startDemoDevices,
  type DemoDevices,
} from '../meter-bridge/config.js';
import { loadGatewayKey } from '../meter-bridge/readings/gateway-key.js';
import { createStoreSink } from '../meter-bridge/sinks/store-sink.js';
import type { InfluxSink } from '../meter-bridge/sinks/influx.js';
import { connectChain, Submitter, type ChainConnection } from '../settlement/index.js';
import { buildDashboard } from '../dashboard/app.js';
import { listen } from '../dashboard/server.js';
import { IntervalScheduler } from './scheduler.js';
import { IntervalCycle } from './interval-cycle.js';
import { createCycleSteps } from './cycle-steps.js';
import { LiveBooks } from './live-books.js';
import { rulesFromConfig } from '../matching-engine/index.js';
import { marketClock } from './market-clock.js';
import { raiseOperationalAlarms } from './alarms.js';
import { auditForDashboard } from '../audit/for-dashboard.js';
import { CLOCK_SPEED_KEY } from '../audit/meter-data-window.js';
import type { Logger } from './logger.js';
import { VERSION } from './version.js';
import { connectEngineMqtt, type EngineMqtt } from './mqtt/connection.js';
import { startStateOut } from './mqtt/state-out.js';
import { startInfluxSeries } from './influx-series.js';
import { watchChainHealth } from './chain-health.js';
import { startReadingsIn } from './mqtt/readings-in.js';
import { removeRuntimeFile, writeRuntimeFile } from './runtime-file.js';
import { ensureDemoTokens, signInLink, wantsDemoTokens, withDemoTokens } from './demo-tokens.js';

export interface StartOptions {
  config: Config;
  configSource: string;
  dataDir: string;
  log: Logger;
  host?: string;
  port?: number;
  speed?: number;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

export interface RunningMicrogrid {
  url: string;
  ledger: Ledger;
  bus: EventBus;
  clock: Clock;
  metrics: Metrics;
  scheduler: IntervalScheduler;
  cycle: IntervalCycle;
  bridge: Bridge;
  chain: ChainConnection;
  /** The broker connection (`mqtt:` in the config), absent without one. */
  mqtt: EngineMqtt | undefined;
  /** The simulated households of the demo (absent with real devices). */
  demo: DemoDevices | undefined;
  stop(): Promise<void>;
}

/**
 * The composition root: opens the ledger, starts the devices (simulated in the
 * demo), the bridge, the chain and its submitter, the interval cycle and the
 * HTTP server, and stops them in the reverse order. Everything that can fail
 * at start fails before the server listens, and what was started is stopped.
 */
export async function startMicrogrid(opts: StartOptions): Promise<RunningMicrogrid> {
  const { config, log } = opts;
  const env = opts.env ?? process.env;
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const speed = opts.speed ?? config.clock.speed;
  const minutes = config.market.intervalMinutes;
  const stack: { name: string; stop: () => Promise<void> | void }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stack.reverse()) {
      try {
        log.debug({ part: s.name }, `stopping ${s.name}`);
        await s.stop();
      } catch (err) {
        log.error({ err, part: s.name }, `error while stopping ${s.name}`);
      }
    }
    stack.length = 0;
  };

  try {
    const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
    stack.push({ name: 'ledger', stop: () => ledger.close() });
    const clock = opts.clock ?? marketClock(ledger, config, speed);
    log.info({ ledger: ledger.path, migrations: ledger.appliedMigrations().length }, 'ledger open');
    ledger.setKv(CLOCK_SPEED_KEY, String(speed)); // the audit validates meter data with the gap this speed gives
    for (const p of config.participants) upsertParticipant(ledger, p, clock.now());

    const bus = new EventBus();
    bus.onListenerError = (err, e) => log.error({ err, event: e.type }, 'event listener failed');
    // Every metric of core/metric-names.ts is announced from the first scrape, counters that have not counted yet
    // included.
    const metrics = new Metrics();
    bus.on('reading', () => metrics.inc(METRICS.readings, {}));
    bus.on('settlement-state', (e) => {
      const line = { interval: e.interval, state: e.state, tx: e.txHash, ...(e.detail ? { detail: e.detail } : {}) };
      if (e.state === 'error')
        log.error(line, `settlement${e.interval ? ` of ${e.interval}` : ''}: error${e.detail ? `: ${e.detail}` : ''}`);
      else log.info(line, `settlement of ${e.interval}: ${e.state}`);
    });
    raiseOperationalAlarms(bus, clock);
    bus.on('alarm', (a) => {
      metrics.inc(METRICS.alarms, { code: a.code });
      log.warn({ code: a.code, subject: a.subject }, a.message);
    });

    // The broker (optional): readings in from gateways, state out, Home Assistant discovery.
    let mqtt: EngineMqtt | undefined;
    if (config.mqtt) {
      const mq = await connectEngineMqtt(config, env, log.child({ module: 'mqtt' }));
      mqtt = mq;
      stack.push({ name: 'mqtt', stop: () => mq.close() });
      const rin = await startReadingsIn({
        mqtt: mq,
        ledger,
        clock,
        bus,
        metrics,
        log: log.child({ module: 'mqtt-readings' }),
        messagesPerMinute: config.server.rateLimit.readingsPerMinute,
        maxMessageBytes: config.server.bodyLimitBytes,
      });
      stack.push({ name: 'mqtt readings', stop: () => rin.stop() });
    }

    // Devices: the configured ones, or (demo) one simulated household per participant on loopback.
    let devices = devicesFromConfig(config);
    let demo: DemoDevices | undefined;
    if (devices.length === 0 && config.demo.enabled) {
      demo = await startDemoDevices(config, clock, '127.0.0.1', join(dataDir, 'simulators'));
      stack.push({ name: 'simulated devices', stop: () => demo!.close() });
      devices = demo.devices;
      log.info(
        { households: demo.households.length },
        `${demo.households.length} simulated households serving Modbus TCP on 127.0.0.1`,
      );
    }
    const signer = loadGatewayKey(dataDir);
    // The in-process bridge is the gateway of every meter it reads.
    for (const d of devices) {
      for (const m of [d.meters?.grid, d.meters?.pv, d.meterId].filter((x): x is string => !!x)) {
        setMeterGateway(ledger, m, signer.address);
        setMeterDevice(ledger, m, d.id); // the dashboard's device tiles and "meters reporting" need it
      }
    }
    // A remote gateway named in the config (participants[].meters[].gateway) signs that meter's readings, whoever polls
    // it here.
    for (const p of config.participants)
      for (const m of p.meters) if (m.gateway) setMeterGateway(ledger, m.id, m.gateway);
    const sinks: ReadingSink[] = [
      createStoreSink({ insertReadings: (rs) => void insertReadings(ledger, rs, clock.now()) }),
    ];
    // The same sink as a standalone bridge's (meter-bridge/config.ts), spool in the data folder.
    const influx: InfluxSink | undefined = influxSinkFromConfig(config, dataDir, env, log) ?? undefined;
    if (influx) sinks.push(influx);
    const bridge = startBridge({
      devices,
      clock,
      bus,
      sinks,
      signer,
      log: log.child({ module: 'bridge' }),
      ...bridgeOptionsFromConfig(config),
    });
    stack.push({ name: 'bridge', stop: () => bridge.stop() });
    // Rated powers: config, else the device (SunSpec model 120 once discovered, a profile's), else the role default,
    // warned.
    followRatedPowers({ ledger, config, readers: bridge.readers, bus, log });
    // The bridge counts MQTT meters' refused and dropped messages per device; the counters take the increase.
    const counted = new Map<string, { rejected: number; dropped: number }>();
    metrics.collect(() => {
      const health = bridge.health();
      for (const status of ['online', 'stale', 'offline', 'asleep'] as const) {
        metrics.set(METRICS.devices, { status }, health.filter((h) => h.status === status).length);
      }
      for (const h of health) {
        if (h.rejectedMessages === 0 && h.droppedMessages === 0) continue;
        const c = counted.get(h.deviceId) ?? { rejected: 0, dropped: 0 };
        if (h.rejectedMessages > c.rejected)
          metrics.inc(METRICS.deviceMessagesRejected, { device: h.deviceId }, h.rejectedMessages - c.rejected);
        if (h.droppedMessages > c.dropped)
          metrics.inc(METRICS.deviceMessagesDropped, { device: h.deviceId }, h.droppedMessages - c.dropped);
        counted.set(h.deviceId, { rejected: h.rejectedMessages, dropped: h.droppedMessages });
      }
    });
    log.info({ devices: devices.length, gateway: signer.address }, `meter bridge polling ${devices.length} devices`);

    // The chain: the configured RPC, or anvil from node_modules on loopback.
    const chain = await connectChain(config, dataDir, env);
    stack.push({ name: 'chain', stop: () => chain.stop() });
    log.info(
      { rpc: chain.rpcUrl, chainId: chain.chainId, contract: chain.contract, embedded: chain.embedded },
      `chain ${chain.chainId} at ${chain.rpcUrl}, EnergyCredits at ${chain.contract}`,
    );
    const receipts = createPublicClient({ transport: http(chain.rpcUrl, { retryCount: 0 }) });
    const submitter = new Submitter({
      ledger,
      rpcUrl: chain.rpcUrl,
      chainId: chain.chainId,
      privateKey: chain.privateKey,
      contract: chain.contract,
      confirmations: chain.confirmations,
      stuckAfterMs: config.chain.stuckAfterSeconds * 1000,
      feeBumpPercent: config.chain.feeBumpPercent,
      stalledAfterMs: config.chain.stalledAfterSeconds * 1000,
      ...(chain.persist ? { persist: chain.persist } : {}),
      events: bus,
      marketNow: () => clock.now(),
      onJournal: (row) => {
        if (row.state !== 'mined' || !row.txHash) return;
        receipts.getTransactionReceipt({ hash: row.txHash as Hex }).then(
          (r) => metrics.inc(METRICS.gasUsed, { action: row.action }, Number(r.gasUsed)),
          () => {},
        );
      },
    });
    submitter.run().catch((err: unknown) => log.error({ err }, 'settlement: the submitter stopped'));
    stack.push({ name: 'submitter', stop: () => submitter.stop() });
    const chainHealth = watchChainHealth({ rpcUrl: chain.rpcUrl, bus });
    stack.push({ name: 'chain probe', stop: () => chainHealth.stop() });
    metrics.collect(() => metrics.set(METRICS.chainUp, {}, chainHealth.up ? 1 : 0));

    // The interval cycle, driven at each boundary by the scheduler.
    // One live book per open interval, shared by the order routes (which fill it) and gate closure (which clears it).
    const books = new LiveBooks(ledger, config, rulesFromConfig(config.market));
    books.restore(clock.now());
    const steps = createCycleSteps({
      ledger,
      config,
      clock,
      bus,
      speed,
      books,
      wakeSubmitter: () => submitter.enqueue(),
    });
    const cycle = new IntervalCycle({
      ledger,
      clock,
      bus,
      log,
      steps,
      minutes,
      gateClosureSeconds: config.market.gateClosureSeconds,
      gracePeriodSeconds: config.market.gracePeriodSeconds,
      onStep: (start, state) => {
        const sinceEnd = (clock.now() - intervalEnd(start, minutes)) / 1000;
        metrics.observe(METRICS.stepLag, { step: state }, sinceEnd);
      },
    });
    stack.push({ name: 'interval cycle', stop: () => cycle.stop() });
    metrics.collect(() => {
      const counts = countIntervalsByState(ledger);
      for (const s of ['metered', 'settled', 'committed'] as const)
        metrics.set(METRICS.settlementBacklog, { state: s }, counts[s] ?? 0);
      metrics.set(METRICS.meterDataHeld, {}, countMeterHolds(ledger, { pending: true }));
    });
    if (influx) {
      // Interval results and device health, through the readings' batches and spool (core/influx-schema.ts).
      const off = startInfluxSeries({
        bus,
        ledger,
        clock,
        sink: influx,
        devices: () => bridge.health(),
        onError: (err) => log.error({ err }, 'influx series: a point could not be built'),
      });
      stack.push({ name: 'influx series', stop: off });
    }
    const scheduler = new IntervalScheduler(clock, minutes);
    scheduler.onError = (err, start) =>
      log.error({ err, interval: toIso(start) }, 'interval step failed; it is retried');
    scheduler.start((start) => {
      log.info({ interval: toIso(start) }, `interval ${toIso(start)} begins`);
      return cycle.tick();
    });
    stack.push({ name: 'scheduler', stop: () => scheduler.stop() });
    await cycle.tick();

    // Per-request lines only at debug: at info they would drown the interval log.
    const httpLog = log.child({ module: 'http' }, { level: log.levelVal <= 20 ? log.level : 'warn' });
    const audit = auditForDashboard({ ledger, config, rpcUrl: chain.rpcUrl, contract: chain.contract });
    const holdCtx = { intervalMs: minutes * 60_000 };
    const decideMeterHold = (d: MeterHoldDecisionRequest) => {
      const h = decideHold(
        ledger,
        holdCtx,
        d.decision === 'replace'
          ? d.estimate
            ? { ...d, decision: 'replace', estimate: true }
            : { ...d, decision: 'replace', importWh: d.importWh ?? -1, exportWh: d.exportWh ?? -1 }
          : { ...d, decision: d.decision },
        clock.now(),
      );
      clearMeterDataAlarms(bus, listMeterHolds(ledger), h.intervalStart, clock.now());
      return h;
    };
    const readingVerdictsOf = (meterId: string, from: number, to: number) => {
      const m = metersForValidation(ledger).find((x) => x.id === meterId);
      if (!m) return new Map();
      return readingVerdicts({
        readings: meterSeriesReadings(ledger, meterId, from, to, Math.max(minutes * 60_000, 15 * 60_000)),
        ratedPowerW: m.ratedPowerW ?? DEFAULT_RATED_POWER_W[m.role],
      });
    };
    const devicesNow = () =>
      bridge.health().map((h) => ({
        type: 'device-health' as const,
        deviceId: h.deviceId,
        status: h.status,
        lastError: h.lastError,
        lastPollAt: h.lastPollAt,
      }));
    // The demo signs in with tokens of its own, kept in the data folder; a configured deployment keeps auth.tokens.
    const demoTokens = wantsDemoTokens(config) ? ensureDemoTokens(dataDir, config) : [];
    const dashConfig = demoTokens.length > 0 ? withDemoTokens(config, demoTokens) : config;
    const app = buildDashboard({
      ledger,
      config: dashConfig,
      clock,
      bus,
      metrics,
      env,
      audit,
      devices: devicesNow,
      decideMeterHold,
      readingVerdicts: readingVerdictsOf,
      forwardOrders: books,
      version: VERSION,
      logger: httpLog,
    });
    stack.push({ name: 'http server', stop: () => app.close() });
    // State out and Home Assistant discovery: from the dashboard's live hub, so MQTT carries /api/state's numbers.
    if (mqtt) {
      const out = await startStateOut({
        mqtt,
        hub: app.mgx.hub,
        ledger,
        config,
        clock,
        log: log.child({ module: 'mqtt' }),
        version: VERSION,
      });
      stack.push({ name: 'mqtt state out', stop: () => out.close() });
    }
    const url = await listen(app, opts.host ?? config.server.host, opts.port ?? config.server.port);
    log.info(
      {
        url,
        config: opts.configSource,
        dataDir,
        participants: config.participants.length,
        intervalMinutes: minutes,
        speed,
        currentInterval: toIso(intervalStartOf(clock.now(), minutes)),
      },
      `microgrid-exchange ${VERSION} running at ${url} (${opts.configSource}, ${minutes}-minute intervals, clock ×${speed})`,
    );
    for (const t of demoTokens) {
      log.info(
        { role: t.role, participant: t.participant, file: t.file },
        `sign in as ${t.participant ? `household ${t.participant}` : t.role}: ${signInLink(url, t.token)}`,
      );
    }
    // Last, once everything answers: `mgx status` and `mgx audit` find this instance by it.
    writeRuntimeFile(dataDir, {
      pid: process.pid,
      url,
      rpcUrl: chain.rpcUrl,
      chainId: chain.chainId,
      contract: chain.contract,
      embeddedChain: chain.embedded,
      startedAt: new Date().toISOString(),
      version: VERSION,
      configSource: opts.configSource,
    });
    stack.push({ name: 'runtime file', stop: () => removeRuntimeFile(dataDir) });

    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopped ??= (async () => {
        await influx?.flush();
        await stopAll();
      })());
    return { url, ledger, bus, clock, metrics, scheduler, cycle, bridge, chain, mqtt, demo, stop };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
