// `npm run bench:engine`: median clearing time and peak memory per book size
// and mechanism, on seeded random books (the same books on every run).
// A benchmark, not a test: it prints figures and asserts nothing.
//   npm run bench:engine                       sizes 1k, 10k, 100k, 1M; all mechanisms; 5 runs
//   npm run bench:engine -- --runs 7 --sizes 1000,10000 --mechanisms uniform
//   npm run bench:engine -- --zoned      fees between zones and an export limit (the general flow)
//   npm run bench:engine -- --phases     also the median time of each phase of a uniform clearing
// Peak RSS is the process's maximum so far (it only grows from row to row).
import { clearBook } from '../clear.js';
import { OrderBook } from '../book.js';
import type { Mechanism } from '../../core/config/schema.js';
import type { ClearingRules } from '../../core/market.js';
import { randomBook, benchRules, INTERVAL } from './books.js';
import { compileRules } from '../rules.js';
import { packOrders } from '../orders.js';
import { efficientAllocation } from '../efficient.js';
import { clearUniform } from '../mechanisms/uniform.js';
import { remainders, tradeObjects } from '../result.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(arg('runs') ?? 5);
const sizes = (arg('sizes') ?? '1000,10000,100000,1000000').split(',').map(Number);
const mechanisms = (arg('mechanisms') ?? 'uniform,pay-as-bid,pay-as-offer,mcafee').split(',') as Mechanism[];
const zoned = process.argv.includes('--zoned');

const warmups = (n: number): number => Math.max(2, Math.min(30, Math.ceil(300_000 / n)));

// The engine clears once per interval (minutes apart), not back to back: a
// full collection between runs keeps one run's garbage (a million result
// objects) from being collected inside the next run's timing. Each run still
// pays for the collections its own allocations cause. Books under 100,000
// orders leave little garbage, and a full collection before each of their
// runs would only make it start on cold memory, so they run without one.
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run the benchmark with node --expose-gc (npm run bench:engine does)');
const settle = (n: number): void => {
  if (n >= 100_000) gc();
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Builds one book of n orders (one at a time, as in the app: a million orders is a few hundred MB) and times its
 * clearing.
 */
function measureBook(
  n: number,
  rules: ClearingRules,
): { times: number[]; lists: number[]; trades: number; matched: number; add: number } {
  const tb = performance.now();
  // The order list is garbage once added (as orders arriving through the API are).
  const book = new OrderBook(INTERVAL, rules);
  for (const o of randomBook(n, 42 + n)) book.add(o);
  const add = ((performance.now() - tb) * 1000) / n;
  // Warm-up: the engine runs every interval in a long-lived process, so measure it JIT-compiled.
  // Small books need a few dozen runs before V8 optimises the hot loops; big ones warm up in two.
  for (let w = warmups(n); w > 0; w--) {
    const r = book.clear();
    void r.trades.length;
    void r.remainders.length;
  }
  const times: number[] = [];
  const lists: number[] = [];
  let trades = 0;
  let matched = 0;
  for (let r = 0; r < runs; r++) {
    settle(n);
    const t0 = performance.now();
    const res = book.clear();
    const t1 = performance.now();
    trades = res.trades.length;
    void res.remainders.length;
    lists.push(performance.now() - t1);
    times.push(t1 - t0);
    matched = res.matchedWh;
  }
  return { times, lists, trades, matched, add };
}

console.log(
  `matching-engine benchmark: ${runs} runs per cell after ${warmups(sizes[0]!)}…${warmups(sizes[sizes.length - 1]!)} warm-up runs, ${zoned ? '4 zones with fees and an export limit' : '4 zones, no fees'}, node ${process.version}`,
);
console.log(
  '  clear:   OrderBook.clear() at gate closure on a book of n orders added one by one (validated and packed into columns as they came);',
);
console.log('           the result holds trades and remainders as columns');
console.log(
  '  +lists:  then reading result.trades and result.remainders (building the Trade and OrderRemainder objects)',
);
console.log(
  '  list:    clearBook on the same orders as a list (validate + pack + clear, as `mgx clear` and the audit do), lists built',
);
console.log(
  'size       mechanism      clear median   min ms   max ms   +lists ms   list ms   trades    matched Wh      heap after MB  peak RSS MB',
);
for (const n of sizes) {
  let addUs = 0;
  for (const m of mechanisms) {
    const rules = benchRules(m, zoned);
    const { times, lists, trades, matched, add } = measureBook(n, rules);
    addUs = add;
    const orders = randomBook(n, 42 + n);
    const whole: number[] = [];
    for (let r = warmups(n) + runs; r > 0; r--) {
      settle(n);
      const t0 = performance.now();
      void clearBook({ interval: INTERVAL, orders }, rules).remainders.length;
      if (r <= runs) whole.push(performance.now() - t0);
    }
    const heap = process.memoryUsage().heapUsed / 2 ** 20;
    const rss = process.resourceUsage().maxRSS / 1024;
    console.log(
      `${String(n).padEnd(10)} ${m.padEnd(14)} ${median(times).toFixed(1).padStart(12)} ${Math.min(...times)
        .toFixed(1)
        .padStart(8)} ${Math.max(...times)
        .toFixed(1)
        .padStart(
          8,
        )} ${median(lists).toFixed(1).padStart(11)} ${median(whole).toFixed(1).padStart(9)}   ${String(trades).padEnd(9)} ${String(matched).padEnd(15)} ${heap.toFixed(0).padStart(13)} ${rss.toFixed(0).padStart(12)}`,
    );
  }
  console.log(`${''.padEnd(10)} (OrderBook.add: ${addUs.toFixed(2)} µs per order, validation included)`);
}

if (process.argv.includes('--phases')) {
  console.log(
    '\nphases of a uniform clearing (median ms): validate+pack (clearBook only), sort+flow+allocate, prices+pairing (columns), trade objects, remainder objects',
  );
  for (const n of sizes) {
    const orders = randomBook(n, 42 + n);
    const cr = compileRules(benchRules('uniform', zoned));
    const laps: number[][] = [[], [], [], [], []];
    const w = warmups(n);
    for (let r = 0; r < w + runs; r++) {
      settle(n);
      const t0 = performance.now();
      const p = packOrders(orders, INTERVAL, cr);
      const t1 = performance.now();
      const a = efficientAllocation(p, cr);
      const t2 = performance.now();
      const out = clearUniform(a, cr);
      const t3 = performance.now();
      tradeObjects(a.packed, out.trades, cr.scale);
      const t4 = performance.now();
      remainders(a.packed, out.perm, out.fill);
      const t5 = performance.now();
      if (r >= w) [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4].forEach((d, i) => laps[i]!.push(d));
    }
    console.log(`${String(n).padEnd(10)} ${laps.map((l) => median(l).toFixed(1).padStart(9)).join(' ')}`);
  }
}
