// npm run bench:microgrid [-- --households 1000 --hours 6 --from 09:00 --interval 15 --csv intervals.csv]
//
// The engine path of a running microgrid at scale: N households' boundary
// readings land in the ledger each interval; the app's own interval cycle then
// meters, clears (metered clearing of standing prices), settles and commits the
// interval on the embedded anvil. Per interval it measures, in wall time:
//   - grace end → trades in the ledger: from the moment the market clock reaches
//     the end of the grace period (the cycle's grace timer, the tick at which a
//     running instance meters: the readings arrived after the boundary's tick) to
//     the commit of the metered transition (the trades are written in that
//     transaction);
//   - grace end → credits final on anvil;
// the metered trades per interval beside it, and the process RSS over the span.
// The span starts where the work is: `--from` (default 09:00, so `--hours 6`
// covers the sun); `--from 00:00 --hours 24` times whole days. An interval in
// which households exported but nothing traded fails the bench (exit 1): it
// would time empty clearings. Readings are written straight into the ledger
// (unsigned): polling 1,000 Modbus devices is measured by `npm run bench:bridge`,
// signing there too. `--csv FILE` writes one row per interval (which ones make the tail).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ManualClock } from '../../core/clock.js';
import { validateConfig } from '../../core/config/validate.js';
import { toIso, type IntervalMinutes } from '../../core/interval.js';
import type { ReadingEvent } from '../../core/events.js';
import { insertReadings } from '../../ledger/readings.js';
import { getInterval } from '../../ledger/intervals.js';
import { getClearing } from '../../ledger/clearing.js';
import { startMicrogrid } from '../start.js';
import { mulberry32 } from '../../core/seeded-random.js';

const { values } = parseArgs({
  options: {
    households: { type: 'string', default: '1000' },
    hours: { type: 'string', default: '24' },
    from: { type: 'string', default: '09:00' },
    interval: { type: 'string', default: '15' },
    // Wall-clock bound of one interval's wait for final: the bench never hangs on a stuck chain step.
    'interval-timeout': { type: 'string', default: '600' },
    csv: { type: 'string' },
  },
});
const N = Number(values.households);
const HOURS = Number(values.hours);
const MIN = Number(values.interval) as IntervalMinutes;
const LEN = MIN * 60_000;
const GRACE_S = 60;
// The bridge's default record period: the readings the metered step validates are the ones a running instance stores.
const RECORD_MS = 60_000;
// Readings of a boundary arrive this long after it (a bridge's poll and write): after the boundary's tick.
const ARRIVAL_MS = 5_000;
const fromMatch = /^(\d{1,2}):(\d{2})$/.exec(values.from);
if (!fromMatch || Number(fromMatch[1]) > 23 || Number(fromMatch[2]) > 59 || (Number(fromMatch[2]) * 60_000) % LEN)
  throw new Error(`--from must be HH:MM on an interval boundary, got ${values.from}`);
const FROM_MS = (Number(fromMatch[1]) * 60 + Number(fromMatch[2])) * 60_000;
const TIMEOUT_MS = Number(values['interval-timeout']) * 1000;

const pct = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const loadBefore = load();
  const rand = mulberry32(42);
  const pad = (i: number): string => String(i + 1).padStart(5, '0');
  const participants = Array.from({ length: N }, (_, i) => ({
    id: `h${pad(i)}`,
    name: `Household ${pad(i)}`,
    zone: i % 2 ? 'north' : 'south',
    meters: [{ id: `h${pad(i)}-grid`, role: 'grid' as const }],
    policy: {
      minSellPrice: (0.08 + Math.floor(rand() * 600) / 10_000).toFixed(4),
      maxBuyPrice: (0.18 + Math.floor(rand() * 1200) / 10_000).toFixed(4),
    },
  }));
  const config = validateConfig({
    market: { intervalMinutes: MIN, gracePeriodSeconds: GRACE_S },
    bridge: { recordEveryMs: RECORD_MS },
    participants,
    server: { port: 0 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'mgx-bench-microgrid-'));
  const DAY = Date.parse('2026-06-21T00:00:00Z');
  const FIRST = DAY + FROM_MS;
  const clock = new ManualClock(FIRST - 60_000);
  const mg = await startMicrogrid({
    config,
    configSource: 'bench',
    dataDir: dir,
    log: pino({ level: 'silent' }),
    port: 0,
    clock,
  });
  const hasPv = participants.map((_, i) => i % 3 !== 2);
  const peak = participants.map(() => 2000 + Math.floor(rand() * 4000));
  const base = participants.map(() => 200 + Math.floor(rand() * 600));
  const counters = participants.map(() => ({ imp: 0, exp: 0 }));
  // Each household's import and export over the current interval, spread evenly over its records.
  const step = participants.map(() => ({ imp: 0, exp: 0 }));
  const readingsAt = (t: number, f: number): ReadingEvent[] =>
    participants.map((p, i) => ({
      type: 'reading',
      meterId: p.meters[0]!.id,
      ts: new Date(t).toISOString(),
      powerW: null,
      importWh: counters[i]!.imp + Math.round(step[i]!.imp * f),
      exportWh: counters[i]!.exp + Math.round(step[i]!.exp * f),
      voltageV: null,
      frequencyHz: null,
      quality: 'good',
    }));
  /** One interval of consumption and PV; returns how many households export in it. */
  const planInterval = (start: number): number => {
    const h = ((start - DAY) / 3_600_000) % 24;
    const sun = h > 6 && h < 18 ? Math.sin((Math.PI * (h - 6)) / 12) ** 1.5 : 0;
    let exporters = 0;
    participants.forEach((_, i) => {
      const net = (base[i]! * (0.7 + 0.6 * rand()) - (hasPv[i] ? peak[i]! * sun : 0)) * (LEN / 3_600_000);
      step[i] = net >= 0 ? { imp: Math.round(net), exp: 0 } : { imp: 0, exp: Math.round(-net) };
      if (step[i]!.exp > 0) exporters++;
    });
    return exporters;
  };
  const closeInterval = (): void => {
    participants.forEach((_, i) => {
      counters[i]!.imp += step[i]!.imp;
      counters[i]!.exp += step[i]!.exp;
    });
  };
  const stateOf = (s: number): string | undefined => getInterval(mg.ledger, s)?.state;
  // The metered transition's event is emitted right after its transaction (trades included) commits.
  const metered = new Map<string, { at: number; cpu: NodeJS.CpuUsage }>();
  mg.bus.on(
    'interval-state',
    (e) => void (e.state === 'metered' && metered.set(e.interval, { at: performance.now(), cpu: process.cpuUsage() })),
  );

  insertReadings(mg.ledger, readingsAt(FIRST, 0), clock.now());
  await clock.advanceTo(FIRST);
  await mg.cycle.tick();
  const toTrades: number[] = [];
  const toFinal: number[] = [];
  const cpuTrades: number[] = [];
  const tradesPer: number[] = [];
  const failures: string[] = [];
  let rssStart = 0;
  const rssTrail: string[] = [];
  const csvRows: string[] = ['interval_start,grace_end_to_trades_ms,cpu_ms,trades,grace_end_to_final_ms,rss_mib'];
  const planned = Math.round((HOURS * 60) / MIN);
  const trailEvery = Math.max(1, Math.round(planned / 6));
  const wallStart = performance.now();
  for (let k = 0; k < planned; k++) {
    const start = FIRST + k * LEN;
    const end = start + LEN;
    const exporters = planInterval(start);
    // The bridge's records inside the interval (every bridge.recordEveryMs, as a running instance stores them),
    // each received a second after it was taken.
    await clock.advanceTo(end - 1000);
    for (let t = start + RECORD_MS; t < end; t += RECORD_MS)
      insertReadings(mg.ledger, readingsAt(t, (t - start) / LEN), t + 1000);
    closeInterval();
    // The boundary's tick: the interval is delivered; its readings are not in yet, so it cannot meter.
    await clock.advanceTo(end);
    await mg.cycle.tick();
    if (stateOf(start) !== 'delivered')
      throw new Error(`${toIso(start)} is ${stateOf(start)} at its end, not delivered`);
    await clock.advanceTo(end + ARRIVAL_MS);
    insertReadings(mg.ledger, readingsAt(end, 0), clock.now());
    // Grace end: the cycle's own timer fires the tick that meters. The timer starts here, where metering may start.
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await clock.advanceTo(end + GRACE_S * 1000);
    await mg.cycle.tick();
    while (stateOf(start) !== 'final') {
      if (performance.now() - t0 > TIMEOUT_MS) break;
      await new Promise((r) => setTimeout(r, 20));
      await mg.cycle.tick();
    }
    const tFinal = performance.now();
    if (stateOf(start) !== 'final') {
      // Bounded: what was measured so far is still printed, and the bench fails.
      failures.push(`${toIso(start)}: not final after ${TIMEOUT_MS / 1000} s (state ${stateOf(start)}); stopped there`);
      break;
    }
    const tMetered = metered.get(toIso(start));
    if (tMetered === undefined) throw new Error(`${toIso(start)}: no metered transition seen`);
    toTrades.push(tMetered.at - t0);
    // This process's CPU over the same span (user + system): what a loaded machine's wall time hides.
    cpuTrades.push((tMetered.cpu.user - cpu0.user + tMetered.cpu.system - cpu0.system) / 1000);
    toFinal.push(tFinal - t0);
    const trades = getClearing(mg.ledger, start, 'metered')?.trades.length ?? 0;
    tradesPer.push(trades);
    if (exporters > 0 && trades === 0) failures.push(`${toIso(start)}: ${exporters} households exported, 0 trades`);
    if (k === 3) rssStart = process.memoryUsage().rss;
    csvRows.push(
      [
        toIso(start),
        toTrades.at(-1)!.toFixed(1),
        cpuTrades.at(-1)!.toFixed(1),
        trades,
        toFinal.at(-1)!.toFixed(1),
        (process.memoryUsage().rss / 2 ** 20).toFixed(0),
      ].join(','),
    );
    if ((k + 1) % trailEvery === 0 || k + 1 === planned)
      rssTrail.push(`${new Date(end).toISOString().slice(11, 16)} ${mib(process.memoryUsage().rss)}`);
    if (process.stderr.isTTY) {
      const eta = ((performance.now() - wallStart) / (k + 1)) * (planned - k - 1);
      process.stderr.write(
        `\r${k + 1}/${planned} intervals, last: ${toTrades.at(-1)!.toFixed(0)} ms, ${trades} trades; ~${(eta / 1000).toFixed(0)} s left `,
      );
    }
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  const rssEnd = process.memoryUsage().rss;
  const intervals = toTrades.length;
  await mg.stop();
  rmSync(dir, { recursive: true, force: true });
  const ms = (x: number): string => `${x.toFixed(0)} ms`;
  const fromIso = new Date(FIRST).toISOString().slice(11, 16);
  const toIsoEnd = new Date(FIRST + intervals * LEN).toISOString().slice(11, 16);
  console.log(
    `bench:microgrid — ${N} households, ${intervals}${intervals < planned ? ` (of ${planned})` : ''} × ${MIN}-minute intervals, ${fromIso}–${toIsoEnd} UTC (${HOURS} simulated hours), grace ${GRACE_S} s, embedded anvil; node ${process.version}`,
  );
  console.log(
    `grace end → trades in the ledger: p50 ${ms(pct(toTrades, 0.5))}, p95 ${ms(pct(toTrades, 0.95))}, max ${ms(Math.max(...toTrades))}`,
  );
  console.log(
    `  CPU of this process over it: p50 ${ms(pct(cpuTrades, 0.5))}, p95 ${ms(pct(cpuTrades, 0.95))} (less sensitive to load than wall time)`,
  );
  console.log(
    `metered trades per interval: median ${pct(tradesPer, 0.5)}, min–max ${Math.min(...tradesPer)}–${Math.max(...tradesPer)} (${tradesPer.reduce((a, b) => a + b, 0)} in all)`,
  );
  console.log(
    `grace end → credits final on anvil: p50 ${ms(pct(toFinal, 0.5))}, p95 ${ms(pct(toFinal, 0.95))}, max ${ms(Math.max(...toFinal))}`,
  );
  console.log(
    `RSS after 4 intervals ${mib(rssStart)}, at the end ${mib(rssEnd)}; trail (market time, UTC): ${rssTrail.join(', ')}`,
  );
  console.log(`load average (1, 5, 15 min): before ${loadBefore}, after ${load()}`);
  if (values.csv !== undefined) {
    writeFileSync(values.csv, `${csvRows.join('\n')}\n`);
    console.log(`per interval: ${values.csv}`);
  }
  if (failures.length > 0) {
    console.error(`FAIL: ${failures.length} interval(s):\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  }
}

await main();
