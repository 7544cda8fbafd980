import type { PackedOrders } from './orders.js';
import type { CompiledRules } from './rules.js';
import { sortBook, type SortedBook } from './sort.js';
import { solveFlow, type Flow, type Network } from './flow.js';
import { allocateOrders } from './allocate.js';

/** The efficient (surplus-maximising) allocation of a packed book, which every mechanism starts from. */
export interface Allocation {
  packed: PackedOrders;
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
 * When every zone pair costs the same fee and no export limit can bind, zones
 * change nothing: the book is cleared as one zone (one merit order, one
 * price), which is the common case and the fast one.
 */
function collapseZones(packed: PackedOrders, net: Network): { packed: PackedOrders; net: Network } | undefined {
  const Z = net.zones;
  if (Z <= 1) return undefined;
  const fee0 = net.fee[0]!;
  if (!net.fee.every((f) => f === fee0)) return undefined;
  const offered = new Float64Array(Z);
  for (let i = 0; i < packed.n; i++) if (packed.side[i] === 1) offered[packed.zone[i]!]! += packed.qty[i]!;
  for (let z = 0; z < Z; z++) if (net.limit[z]! < offered[z]!) return undefined;
  return {
    packed: { ...packed, zone: new Int32Array(packed.n), zones: ['*'] },
    net: { zones: 1, fee: Int32Array.of(fee0), limit: Float64Array.of(Infinity) },
  };
}

export function efficientAllocation(packed0: PackedOrders, cr: CompiledRules): Allocation {
  const net0 = networkOf(packed0, cr);
  const { packed, net } = collapseZones(packed0, net0) ?? { packed: packed0, net: net0 };
  const sorted = sortBook(packed, cr.floor, cr.cap);
  const flow = solveFlow(sorted.levels, net);
  const fill = new Float64Array(packed.n);
  const sortedFill = new Float64Array(packed.n);
  allocateOrders(sorted.perm, sorted.levels, flow.levelFill, sorted.qty, fill, sortedFill);
  return { packed, sorted, net, flow, fill, sortedFill, zones: packed0.zones, collapsed: packed !== packed0 };
}
