/**
 * Request coalescing: the register groups a device needs each cycle are read
 * in as few requests as the protocol allows. A group (a value and its scale
 * factor, or one profile point) is never split across requests, so a value and
 * its scale factor always come from the same moment. Groups are merged while
 * the merged span stays within `maxCount` registers (125 for function 3/4) and
 * the hole between them is at most `maxGap` registers (reading a few unused
 * registers is cheaper than a second round trip, but some devices answer
 * exception 2 for holes in their map, so profiles can set it to 0).
 */
export interface RegisterGroup {
  /** Identifies the group to its owner (a point name, a model id). */
  key: string;
  fc: 3 | 4;
  /** First and last register, absolute, inclusive. */
  from: number;
  to: number;
}

export interface PlannedRead {
  fc: 3 | 4;
  address: number;
  count: number;
  groups: RegisterGroup[];
}

export const MAX_READ_REGISTERS = 125;

export function coalesce(
  groups: readonly RegisterGroup[],
  opts: { maxCount?: number; maxGap?: number } = {},
): PlannedRead[] {
  const maxCount = opts.maxCount ?? MAX_READ_REGISTERS;
  const maxGap = opts.maxGap ?? 16;
  const out: PlannedRead[] = [];
  for (const fc of [3, 4] as const) {
    const sorted = groups.filter((g) => g.fc === fc).sort((a, b) => a.from - b.from || a.to - b.to);
    let cur: PlannedRead | null = null;
    for (const g of sorted) {
      if (g.to - g.from + 1 > maxCount)
        throw new RangeError(
          `register group ${g.key} spans ${g.to - g.from + 1} registers, more than one request can read (${maxCount})`,
        );
      if (cur) {
        const end = cur.address + cur.count - 1;
        const newEnd = Math.max(end, g.to);
        if (g.from - end - 1 <= maxGap && newEnd - cur.address + 1 <= maxCount) {
          cur.count = newEnd - cur.address + 1;
          cur.groups.push(g);
          continue;
        }
      }
      cur = { fc, address: g.from, count: g.to - g.from + 1, groups: [g] };
      out.push(cur);
    }
  }
  return out;
}
