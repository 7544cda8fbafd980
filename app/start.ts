import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../core/config/schema.js';
import { ScaledClock, type Clock } from '../core/clock.js';
import { EventBus } from '../core/events.js';
import { intervalEnd, intervalMs, intervalStartOf, toIso } from '../core/interval.js';
import { openLedger, type Ledger } from '../ledger/ledger.js';
import { upsertParticipant } from '../ledger/participants.js';
import { advanceInterval } from '../ledger/intervals.js';
import { buildDashboard } from '../dashboard/app.js';
import { listen } from '../dashboard/server.js';
import { IntervalScheduler } from './scheduler.js';
import type { Logger } from './logger.js';
import { VERSION } from './version.js';

export interface StartOptions {
  config: Config;
  configSource: string;
  dataDir: string;
  log: Logger;
  host?: string;
  port?: number;
  speed?: number;
  clock?: Clock;
}

export interface RunningMicrogrid {
  url: string;
  ledger: Ledger;
  bus: EventBus;
  clock: Clock;
  scheduler: IntervalScheduler;
  stop(): Promise<void>;
}

/** The composition root: opens the ledger, wires the modules, starts the clock and the server. */
export async function startMicrogrid(opts: StartOptions): Promise<RunningMicrogrid> {
  const { config, log } = opts;
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const speed = opts.speed ?? config.clock.speed;
  const clock = opts.clock ?? new ScaledClock(speed);
  const minutes = config.market.intervalMinutes;

  const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
  log.info({ ledger: ledger.path, migrations: ledger.appliedMigrations().length }, 'ledger open');
  const now = clock.now();
  for (const p of config.participants) upsertParticipant(ledger, p, now);

  const bus = new EventBus();
  bus.onListenerError = (err, e) => log.error({ err, event: e.type }, 'event listener failed');

  const openInterval = (start: number): void => {
    if (advanceInterval(ledger, start, 'open', clock.now())) {
      bus.emit({ type: 'interval-state', interval: toIso(start), state: 'open', at: new Date(clock.now()).toISOString() });
    }
  };

  const scheduler = new IntervalScheduler(clock, minutes);
  scheduler.onError = (err, start) => log.error({ err, interval: toIso(start) }, 'interval step failed; it is retried at the next boundary');
  const current = intervalStartOf(now, minutes);
  openInterval(current);
  scheduler.start((start) => {
    const previous = start - intervalMs(minutes);
    log.info(
      { interval: toIso(start), ends: toIso(intervalEnd(start, minutes)), previous: toIso(previous) },
      `interval ${toIso(start)} begins; interval ${toIso(previous)} ended`,
    );
    openInterval(start);
  });

  // Per-request lines only at debug: at info they would drown the interval log.
  const httpLog = log.child({ module: 'http' }, { level: log.levelVal <= 20 ? log.level : 'warn' });
  const app = buildDashboard({ ledger, config, clock, bus, version: VERSION, logger: httpLog });
  let url: string;
  try {
    url = await listen(app, opts.host ?? config.server.host, opts.port ?? config.server.port);
  } catch (err) {
    await scheduler.stop();
    ledger.close();
    throw err;
  }
  log.info(
    { url, config: opts.configSource, dataDir, participants: config.participants.length, intervalMinutes: minutes, speed, currentInterval: toIso(current) },
    `microgrid-exchange ${VERSION} running at ${url} (${opts.configSource}, ${minutes}-minute intervals, clock ×${speed})`,
  );

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await scheduler.stop();
      await app.close();
      ledger.close();
    })());

  return { url, ledger, bus, clock, scheduler, stop };
}
