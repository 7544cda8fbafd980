// Gate closure of one interval's forward orders: the path before the live book (read the open rows from SQLite,
// screen them, clearBook on the list) against the live book's `book.clear('forward')`, on the same orders in the
// same run, A/B interleaved. Not a test: nothing asserts on time.
//
//   node --expose-gc --import tsx app/bench/gate-closure.ts [--sizes 10000,100000] [--runs N]
//
// Orders are placed the way the API places them (LiveBooks.place: a ledger row and the book, one transaction per
// order, many orders per commit here only to seed quickly), 4 per household (2 bids, 2 offers, each within its
// meters' capacity so screening excludes nothing), households in 4 zones, prices between floor and cap.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { canonicalJson } from '../../core/canonical-json.js';
import { validateConfig } from '../../core/config/validate.js';
import { toIso } from '../../core/interval.js';
import { deliverableWh, type OrderInput } from '../../core/market.js';
import { mulberry32 } from '../../core/seeded-random.js';
import { openLedger } from '../../ledger/ledger.js';
import { listOpenForwardOrders } from '../../ledger/orders.js';
import { listMeters, upsertParticipant } from '../../ledger/participants.js';
import { clearBook, rulesFromConfig, screenOrders } from '../../matching-engine/index.js';
import { LiveBooks } from '../live-books.js';

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '10000,100000' }, runs: { type: 'string' } },
});
const sizes = values.sizes.split(',').map(Number);
/** Runs per size: small books clear in milliseconds, so more of them to see through a loaded machine's noise. */
const runsFor = (n: number): number => (values.runs !== undefined ? Number(values.runs) : n <= 10_000 ? 31 : 7);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.warn('run with node --expose-gc for a full collection between runs');

const config = validateConfig({ market: { intervalMinutes: 15 } });
const rules = rulesFromConfig(config.market);
const S = Date.UTC(2026, 10, 21, 12, 0, 0);
const ZONES = ['north', 'south', 'east', 'west'];
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]): string =>
  `median ${median(xs).toFixed(2)} ms (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)})`;

/**
 * What gate closure ran before the book was live (app/cycle-steps.ts, up to the result), with the time of its three
 * parts written into `parts` (ms): the rows read, the screening (its capacity lookup included: a filter over every
 * meter per participant, as the old step had it), clearBook.
 */
function oldPath(ledger: ReturnType<typeof openLedger>, parts?: number[][]) {
  const t0 = performance.now();
  const orders: OrderInput[] = listOpenForwardOrders(ledger, S).map((r) => ({
    id: r.id,
    participant: r.participant,
    side: r.side,
    interval: toIso(S),
    energyWh: r.energyWh,
    price: r.price,
    zone: r.zone,
    seq: r.seq,
    ...(r.partners ? { partners: r.partners } : {}),
    ...(r.greenOnly ? { greenOnly: true } : {}),
  }));
  const t1 = performance.now();
  const meters = listMeters(ledger);
  const capacity = new Map<string, number>();
  const capacityOf = (p: string): number => {
    let c = capacity.get(p);
    if (c === undefined)
      capacity.set(
        p,
        (c = deliverableWh(
          meters.filter((m) => m.participantId === p),
          config.market.intervalMinutes,
        )),
      );
    return c;
  };
  const screened = screenOrders({ interval: toIso(S), kind: 'forward', orders }, rules, capacityOf);
  const t2 = performance.now();
  const result = clearBook({ interval: toIso(S), kind: 'forward', orders: screened.orders }, rules);
  const t3 = performance.now();
  if (parts) [t1 - t0, t2 - t1, t3 - t2].forEach((x, i) => (parts[i] ??= []).push(x));
  return result;
}

console.log(`gate closure, forward orders: old path (rows + screen + clearBook) vs live book (book.clear)`);
console.log(`runs per size after one warm-up: 31 up to 10k orders, 7 above (--runs N); load average ${load()}`);
for (const n of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'mgx-gate-bench-'));
  const ledger = openLedger(join(dir, 'ledger.sqlite'));
  try {
    const households = Math.ceil(n / 4);
    ledger.tx(() => {
      for (let h = 0; h < households; h++)
        upsertParticipant(
          ledger,
          {
            id: `h${h}`,
            name: `Household ${h}`,
            zone: ZONES[h % ZONES.length]!,
            meters: [{ id: `h${h}-grid`, role: 'grid', device: 'dev' }],
            policy: {},
          },
          0,
        );
    });
    const books = new LiveBooks(ledger, config, rules);
    const rnd = mulberry32(16);
    const t0 = performance.now();
    for (let i = 0; i < n; i += 5000) {
      ledger.tx(() => {
        for (let j = i; j < Math.min(n, i + 5000); j++) {
          const h = Math.floor(j / 4);
          const bid = j % 2 === 0;
          const ticks = Math.max(800, Math.min(3000, Math.round((bid ? 1900 : 1500) + (rnd() + rnd() - 1) * 900)));
          books.place({
            id: `o${j}`,
            intervalStart: S,
            participantId: `h${h}`,
            side: bid ? 'bid' : 'offer',
            energyWh: 100 + Math.floor(rnd() * 2900),
            price: (ticks / 10000).toFixed(4),
            zone: ZONES[h % ZONES.length]!,
            partners: null,
            greenOnly: false,
            createdAt: 0,
          });
        }
      });
    }
    const placeUs = ((performance.now() - t0) * 1000) / n;
    const { book } = books.book(S);
    const a = oldPath(ledger);
    const b = book.clear('forward');
    const same = canonicalJson(a) === canonicalJson(b);
    const olds: number[] = [];
    const news: number[] = [];
    const parts: number[][] = [];
    for (let r = -1; r < runsFor(n); r++) {
      gc?.();
      let t = performance.now();
      oldPath(ledger, r >= 0 ? parts : undefined);
      const o = performance.now() - t;
      gc?.();
      t = performance.now();
      book.clear('forward');
      const w = performance.now() - t;
      if (r >= 0) {
        olds.push(o);
        news.push(w);
      }
    }
    console.log(
      `${n} orders (${a.trades.length} trades, ${a.matchedWh} Wh, same result: ${same ? 'yes' : 'NO'}), placing ${placeUs.toFixed(0)} µs/order`,
    );
    console.log(`  old path  ${fmt(olds)}`);
    const [rows, screen, clear] = parts.map(median);
    console.log(
      `            of which rows ${rows!.toFixed(2)}, screen ${screen!.toFixed(2)}, clearBook ${clear!.toFixed(2)} ms (medians)`,
    );
    console.log(`  live book ${fmt(news)}   old/new ${(median(olds) / median(news)).toFixed(1)}×`);
  } finally {
    ledger.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`load average ${load()}`);
