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

export function efficientAllocation(packed: PackedOrders, cr: CompiledRules): Allocation {
  const sorted = sortBook(packed, cr.floor, cr.cap);
  const net = networkOf(packed, cr);
  const flow = solveFlow(sorted.levels, net);
  const fill = new Float64Array(packed.n);
  allocateOrders(sorted.perm, sorted.levels, flow.levelFill, packed.qty, fill);
  return { packed, sorted, net, flow, fill };
}
