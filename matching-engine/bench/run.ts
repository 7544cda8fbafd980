// `npm run bench:engine`: median clearing time and peak memory per book size
// and mechanism, on seeded random books (the same books on every run).
// A benchmark, not a test: it prints figures and asserts nothing.
//   npm run bench:engine                       sizes 1k, 10k, 100k, 1M; all mechanisms; 5 runs
//   npm run bench:engine -- --runs 7 --sizes 1000,10000 --mechanisms uniform
//   npm run bench:engine -- --zoned      fees between zones and an export limit (the general flow)
//   npm run bench:engine -- --phases     also the median time of each phase of a uniform clearing
// The headline is the app path (issue 16): OrderBook.clear() then result.trades, beside the floor and their ratio.
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
import type { PackedOrders } from '../orders.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(arg('runs') ?? 5);
const sizes = (arg('sizes') ?? '1000,10000,100000,1000000').split(',').map(Number);
const mechanisms = (arg('mechanisms') ?? 'uniform,pay-as-bid,pay-as-offer,mcafee').split(',') as Mechanism[];
const zoned = process.argv.includes('--zoned');

// The engine clears every interval of a process that runs for days, so the figure is its steady state. V8 optimises
// the hot loops only after many calls: at 10k orders the 30th clearing still took about twice the 300th (issue 16).
const warmups = (n: number): number => Math.max(2, Math.min(300, Math.ceil(3_000_000 / n)));

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
 * The floor the app path is measured against (issue 16): a counting sort of the same columns on (side, price) and
 * one scan over them in that order, building nothing but the sort's own arrays. No engine code: what the machine
 * allows for reading a million orders in price order once.
 */
function floorPass(p: PackedOrders, floor: number, cap: number): number {
  const n = p.n;
  const L = cap - floor + 1;
  const count = new Int32Array(2 * L + 1);
  const side = p.side;
  const ticks = p.ticks;
  for (let i = 0; i < n; i++) count[(side[i] === 0 ? cap - ticks[i]! : L + ticks[i]! - floor) + 1]!++;
  for (let k = 0; k < 2 * L; k++) count[k + 1]! += count[k]!;
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[count[side[i] === 0 ? cap - ticks[i]! : L + ticks[i]! - floor]!++] = i;
  // The scan: cumulative volume per side in price order, and where the curves meet.
  let bids = 0;
  let offers = 0;
  let meet = 0;
  for (let j = 0; j < n; j++) {
    const i = perm[j]!;
    if (side[i] === 0) bids += p.qty[i]!;
    else if ((offers += p.qty[i]!) <= bids) meet = ticks[i]!;
  }
  return meet + bids + offers;
}

interface Cell {
  /** The app path: book.clear() and then result.trades (what saveClearing stores in the trades table). */
  app: number[];
  /** book.clear() alone (trades and remainders still columns). */
  clear: number[];
  /** Then result.remainders (canonicalJson of the result in saveClearing reads them). */
  rem: number[];
  floor: number[];
  trades: number;
  matched: number;
  add: number;
}

/**
 * Builds one book of n orders (one at a time, as in the app: a million orders is a few hundred MB) and times its
 * clearing. Each run times the floor just before the app path, so both see the same machine state.
 */
function measureBook(n: number, rules: ClearingRules): Cell {
  const tb = performance.now();
  // The order list is garbage once added (as orders arriving through the API are).
  const book = new OrderBook(INTERVAL, rules);
  for (const o of randomBook(n, 42 + n)) book.add(o);
  const add = ((performance.now() - tb) * 1000) / n;
  const cr = compileRules(rules);
  // The same columns the book holds (packOrders packs a list exactly as add() does, one slot per order).
  const cols = packOrders(randomBook(n, 42 + n), INTERVAL, cr);
  // Warm-up: the engine runs every interval in a long-lived process, so measure it JIT-compiled.
  // Small books need a few hundred runs before V8 has optimised every hot loop; big ones warm up in two.
  for (let w = warmups(n); w > 0; w--) {
    floorPass(cols, cr.floor, cr.cap);
    const r = book.clear();
    void r.trades.length;
    void r.remainders.length;
  }
  const c: Cell = { app: [], clear: [], rem: [], floor: [], trades: 0, matched: 0, add };
  for (let r = 0; r < runs; r++) {
    settle(n);
    const f0 = performance.now();
    floorPass(cols, cr.floor, cr.cap);
    c.floor.push(performance.now() - f0);
    settle(n);
    const t0 = performance.now();
    const res = book.clear();
    const t1 = performance.now();
    c.trades = res.trades.length;
    const t2 = performance.now();
    void res.remainders.length;
    c.rem.push(performance.now() - t2);
    c.app.push(t2 - t0);
    c.clear.push(t1 - t0);
    c.matched = res.matchedWh;
  }
  return c;
}

const f1 = (x: number, w: number): string => x.toFixed(x < 10 ? 2 : 1).padStart(w);

console.log(
  `matching-engine benchmark: ${runs} runs per cell after ${warmups(sizes[0]!)}…${warmups(sizes[sizes.length - 1]!)} warm-up runs, ${zoned ? '4 zones with fees and an export limit' : '4 zones, no fees'}, node ${process.version}`,
);
console.log(
  "  app path:  the app at gate closure, from the last order added to the stored trades' columns: OrderBook.clear() on a book of n",
);
console.log(
  '             orders added one by one (validated and packed as they came), then result.trades (the Trade objects saveClearing stores)',
);
console.log(
  '  floor:     a counting sort of the same columns on (side, price) and one scan in that order, no result objects',
);
console.log('  ratio:     app path median / floor median, both timed in each run');
console.log('  clear():   OrderBook.clear() alone; +remainders: then result.remainders (the OrderRemainder objects)');
console.log(
  '  mgx/audit: clearBook on the same orders as a list (validate + pack + clear + both lists), the `mgx clear` and audit path',
);
console.log(
  'size       mechanism     app path median  min ms  max ms   floor ms  ratio   clear() ms  +remainders ms  mgx/audit ms  trades    matched Wh       heap MB  peak RSS MB',
);
for (const n of sizes) {
  let addUs = 0;
  for (const m of mechanisms) {
    const rules = benchRules(m, zoned);
    const c = measureBook(n, rules);
    addUs = c.add;
    const orders = randomBook(n, 42 + n);
    const whole: number[] = [];
    for (let r = warmups(n) + runs; r > 0; r--) {
      settle(n);
      const t0 = performance.now();
      const res = clearBook({ interval: INTERVAL, orders }, rules);
      void res.trades.length;
      void res.remainders.length;
      if (r <= runs) whole.push(performance.now() - t0);
    }
    const heap = process.memoryUsage().heapUsed / 2 ** 20;
    const rss = process.resourceUsage().maxRSS / 1024;
    console.log(
      [
        String(n).padEnd(10),
        m.padEnd(14),
        f1(median(c.app), 15),
        f1(Math.min(...c.app), 7),
        f1(Math.max(...c.app), 7),
        f1(median(c.floor), 10),
        (median(c.app) / median(c.floor)).toFixed(2).padStart(6),
        f1(median(c.clear), 12),
        f1(median(c.rem), 15),
        f1(median(whole), 13),
        ' ' + String(c.trades).padEnd(9),
        String(c.matched).padEnd(15),
        heap.toFixed(0).padStart(8),
        rss.toFixed(0).padStart(12),
      ].join(' '),
    );
  }
  console.log(`${''.padEnd(10)} (OrderBook.add: ${addUs.toFixed(2)} µs per order, validation included)`);
}

if (process.argv.includes('--phases')) {
  console.log(
    '\nphases of a uniform clearing (median ms): validate+pack (clearBook only), sort+self-net+flow+allocate, prices+pairing (columns), trade objects, remainder objects',
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
      tradeObjects(p, out.trades, cr.scale);
      const t4 = performance.now();
      remainders(p, out.perm, out.fill, a.netted ?? undefined);
      const t5 = performance.now();
      if (r >= w) [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4].forEach((d, i) => laps[i]!.push(d));
    }
    console.log(`${String(n).padEnd(10)} ${laps.map((l) => median(l).toFixed(1).padStart(9)).join(' ')}`);
  }
}
