// npm run bench:microgrid [-- --households 1000 --hours 24 --interval 15]
//
// The engine path of a running microgrid at scale: N households' boundary
// readings land in the ledger each interval; the app's own interval cycle then
// meters, clears (metered clearing of standing prices), settles and commits the
// interval on the embedded anvil. Per interval it measures, in wall time:
//   - readings complete → trades in the ledger (the metered step),
//   - readings complete → credits final on anvil;
// and the process RSS at the start and the end of the simulated day.
// Readings are written straight into the ledger (unsigned): polling 1,000
// Modbus devices is measured by `npm run bench:bridge`, signing there too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
    interval: { type: 'string', default: '15' },
  },
});
const N = Number(values.households);
const HOURS = Number(values.hours);
const MIN = Number(values.interval) as IntervalMinutes;
const LEN = MIN * 60_000;

const pct = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

async function main(): Promise<void> {
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
    market: { intervalMinutes: MIN, gracePeriodSeconds: 60 },
    participants,
    server: { port: 0 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'mgx-bench-microgrid-'));
  const DAY = Date.parse('2026-06-21T00:00:00Z');
  const clock = new ManualClock(DAY - 60_000);
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
  const boundaryReadings = (t: number): ReadingEvent[] =>
    participants.map((p, i) => ({
      type: 'reading',
      meterId: p.meters[0]!.id,
      ts: new Date(t).toISOString(),
      powerW: null,
      importWh: counters[i]!.imp,
      exportWh: counters[i]!.exp,
      voltageV: null,
      frequencyHz: null,
      quality: 'good',
    }));
  const advanceCounters = (start: number): void => {
    const h = ((start - DAY) / 3_600_000) % 24;
    const sun = h > 6 && h < 18 ? Math.sin((Math.PI * (h - 6)) / 12) ** 1.5 : 0;
    participants.forEach((_, i) => {
      const net = (base[i]! * (0.7 + 0.6 * rand()) - (hasPv[i] ? peak[i]! * sun : 0)) * (LEN / 3_600_000);
      if (net >= 0) counters[i]!.imp += Math.round(net);
      else counters[i]!.exp += Math.round(-net);
    });
  };
  const stateOf = (s: number): string | undefined => getInterval(mg.ledger, s)?.state;
  const cleared = new Map<string, number>();
  mg.bus.on('interval-cleared', (e) => void (e.kind === 'metered' && cleared.set(e.interval, performance.now())));

  insertReadings(mg.ledger, boundaryReadings(DAY), clock.now());
  await clock.advanceTo(DAY);
  const toTrades: number[] = [];
  const toFinal: number[] = [];
  let trades = 0;
  let rssStart = 0;
  const rssTrail: string[] = [];
  const intervals = Math.round((HOURS * 60) / MIN);
  for (let k = 0; k < intervals; k++) {
    const start = DAY + k * LEN;
    const end = start + LEN;
    advanceCounters(start);
    insertReadings(mg.ledger, boundaryReadings(end), clock.now());
    // Readings are complete at the boundary: from here the cycle meters, clears, settles and commits.
    const t0 = performance.now();
    await clock.advanceTo(end);
    await mg.cycle.tick();
    while (stateOf(start) !== 'final') {
      await new Promise((r) => setTimeout(r, 20));
      await mg.cycle.tick();
    }
    const tFinal = performance.now();
    const tCleared = cleared.get(toIso(start)) ?? tFinal;
    toTrades.push(tCleared - t0);
    toFinal.push(tFinal - t0);
    trades += getClearing(mg.ledger, start, 'metered')?.trades.length ?? 0;
    if (k === 3) rssStart = process.memoryUsage().rss;
    if ((k + 1) % Math.round(360 / MIN) === 0)
      rssTrail.push(`${((k + 1) * MIN) / 60} h: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    if (process.stderr.isTTY) process.stderr.write(`\r${k + 1}/${intervals} intervals`);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  const rssEnd = process.memoryUsage().rss;
  await mg.stop();
  rmSync(dir, { recursive: true, force: true });
  const ms = (x: number): string => `${x.toFixed(0)} ms`;
  console.log(
    `bench:microgrid — ${N} households, ${intervals} × ${MIN}-minute intervals (${HOURS} simulated hours), embedded anvil; node ${process.version}`,
  );
  console.log(
    `readings complete → trades in the ledger: p50 ${ms(pct(toTrades, 0.5))}, p95 ${ms(pct(toTrades, 0.95))}, max ${ms(Math.max(...toTrades))}`,
  );
  console.log(
    `readings complete → credits final on anvil: p50 ${ms(pct(toFinal, 0.5))}, p95 ${ms(pct(toFinal, 0.95))}, max ${ms(Math.max(...toFinal))}`,
  );
  console.log(`metered trades: ${trades} over the day`);
  console.log(
    `RSS after 4 intervals ${(rssStart / 2 ** 20).toFixed(0)} MiB, at the end ${(rssEnd / 2 ** 20).toFixed(0)} MiB; every 6 simulated hours: ${rssTrail.join(', ')}`,
  );
}

await main();
