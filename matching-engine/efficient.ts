import { withColumns, type PackedOrders } from './orders.js';
import { f64, i32 } from './scratch.js';
import type { CompiledRules } from './rules.js';
import { sortBook, withoutUsedUp, type SortedBook } from './sort.js';
import { solveFlow, type Flow, type Network } from './flow.js';
import { allocateOrders } from './allocate.js';
import { netSelfOrders, partiesOf } from './self-net.js';

/** The efficient (surplus-maximising) allocation of a packed book, which every mechanism starts from. */
export interface Allocation {
  /**
   * The book the auction clears, indexed like the input (zones collapsed when they are), `qty` as given: what an order
   * has left after self-netting is `qty − netted` (orders netted to zero are in no level of `sorted`).
   */
  packed: PackedOrders;
  /** The total order of the orders with energy left (`perm`, `qty`, `levels`); `bySeq` lists every input order. */
  sorted: SortedBook;
  net: Network;
  flow: Flow;
  /** Energy each order fills, by input index. */
  fill: Float64Array;
  /**
   * The same in the total order (position j is order sorted.perm[j]): what pairing reads, in sequence, and uses up (one
   * pairing per allocation).
   */
  sortedFill: Float64Array;
  /** The book's real zones (by name). */
  zones: string[];
  /** True when zones made no difference and the book was cleared as one zone (`packed.zones` is then ["*"]). */
  collapsed: boolean;
  /** Energy each input order netted against its participant's own orders (self-net.ts), or null when none did. */
  netted: Float64Array | null;
}

export function networkOf(packed: PackedOrders, cr: CompiledRules): Network {
  const Z = packed.zones.length;
  const fee = new Int32Array(Z * Z);
  const limit = new Float64Array(Z);
  for (let a = 0; a < Z; a++) {
    limit[a] = cr.exportLimit(packed.zones[a]!);
    for (let b = 0; b < Z; b++) fee[a * Z + b] = cr.fee(packed.zones[a]!, packed.zones[b]!);
  }
  return { zones: Z, fee, limit };
}

/**
 * When every zone pair costs the same fee and no export limit can bind (on what is offered after netting), zones
 * change nothing: the book is cleared as one zone (one merit order, one price), which is the common case and the fast
 * one.
 */
function collapses(packed: PackedOrders, left: () => Float64Array, net: Network, sameFee: boolean): boolean {
  const Z = net.zones;
  if (Z <= 1 || !sameFee) return false;
  if (net.limit.every((x) => x === Infinity)) return true;
  const offered = new Float64Array(Z);
  const qty = left();
  for (let i = 0; i < packed.n; i++) if (packed.side[i] === 1) offered[packed.zone[i]!]! += qty[i]!;
  for (let z = 0; z < Z; z++) if (net.limit[z]! < offered[z]!) return false;
  return true;
}

/**
 * Self-netting, then the efficient allocation of what is left. The book is sorted once: netting and the auction read
 * the same total order (restricted to the orders with energy left, which keeps their order), so netting only drops
 * what it used up from the sorted levels. A second sort is needed only when netting ignores zones (one fee) but an
 * export limit still binds after it.
 */
export function efficientAllocation(packed: PackedOrders, cr: CompiledRules): Allocation {
  const net0 = networkOf(packed, cr);
  const Z = net0.zones;
  const sameFee = net0.fee.every((f) => f === net0.fee[0]);
  const oneZone: PackedOrders | undefined =
    sameFee && Z > 1
      ? withColumns(packed, i32('alloc.oneZone', packed.n, true), ['*'], packed.qty, packed.tally)
      : undefined;
  const parties = partiesOf(packed);
  let sorted = sortBook(oneZone ?? packed, cr.floor, cr.cap, parties?.pid);
  const self = parties ? netSelfOrders(packed, sorted, parties, sameFee, net0.fee) : null;
  // What each order has left after netting, by input index: only the export limits and a second sort read it so.
  let qty: Float64Array | undefined;
  const left = (): Float64Array => {
    if (qty === undefined && self) {
      qty = f64('alloc.qty', packed.n);
      for (let i = 0; i < packed.n; i++) qty[i] = packed.qty[i]! - self.netted[i]!;
    }
    return qty ?? packed.qty;
  };
  const collapsed = collapses(packed, left, net0, sameFee);
  const book = collapsed ? oneZone! : packed;
  const net = collapsed ? { zones: 1, fee: Int32Array.of(net0.fee[0]!), limit: Float64Array.of(Infinity) } : net0;
  if (oneZone !== undefined && !collapsed) {
    // The book's tally counts the energies as given, not what netting left.
    const resorted = sortBook(withColumns(book, book.zone, book.zones, left(), undefined), cr.floor, cr.cap);
    sorted = { perm: resorted.perm, bySeq: sorted.bySeq, qty: resorted.qty, levels: resorted.levels, party: undefined };
    if (self) sorted = withoutUsedUp(sorted, net.zones);
  } else if (self) sorted = self.sorted;
  const flow = solveFlow(sorted.levels, net);
  const fill = new Float64Array(packed.n);
  const sortedFill = f64('alloc.sortedFill', sorted.perm.length, true);
  allocateOrders(sorted.perm, sorted.levels, flow.levelFill, sorted.qty, fill, sortedFill);
  return {
    packed: book,
    sorted,
    net,
    flow,
    fill,
    sortedFill,
    zones: packed.zones,
    collapsed,
    netted: self?.netted ?? null,
  };
}
