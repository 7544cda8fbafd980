import { Dec } from '../core/units.js';

/**
 * Supply and demand curves of an interval's book, and the cut of them a caller
 * may see. Operator and auditor see every price level. Households and the
 * public see nothing before gate closure (an open book would show a
 * neighbour's order as it is placed), and after it only levels that each
 * stand for at least MIN_PARTICIPANTS_PER_LEVEL participants: adjacent levels
 * are merged (the merged level keeps the last, least favourable price, and
 * the cumulative Wh of all of them) until each has enough; a side with too
 * few participants in all is not shown.
 */

/** Three, not two: a member of a two-participant level could subtract its own order and see the other's. */
export const MIN_PARTICIPANTS_PER_LEVEL = 3;

export interface CurveOrder {
  side: 'bid' | 'offer';
  price: string;
  energyWh: number;
  participant: string;
}

export interface CurvePoint {
  price: string;
  cumulativeWh: number;
}

interface Level {
  price: string;
  wh: number;
  participants: Set<string>;
}

/** The side's price levels in curve order: bids highest first, offers lowest first. */
function levels(book: readonly CurveOrder[], side: 'bid' | 'offer'): Level[] {
  const byPrice = new Map<string, Level>();
  for (const o of book) {
    if (o.side !== side) continue;
    const l = byPrice.get(o.price) ?? { price: o.price, wh: 0, participants: new Set<string>() };
    l.wh += o.energyWh;
    l.participants.add(o.participant);
    byPrice.set(o.price, l);
  }
  return [...byPrice.values()].sort((a, b) => new Dec(a.price).cmp(b.price) * (side === 'bid' ? -1 : 1));
}

function cumulative(ls: readonly Level[]): CurvePoint[] {
  let cum = 0;
  return ls.map((l) => ({ price: l.price, cumulativeWh: (cum += l.wh) }));
}

/** Every level as it is (operator, auditor). */
export function fullCurve(book: readonly CurveOrder[], side: 'bid' | 'offer'): CurvePoint[] {
  return cumulative(levels(book, side));
}

/**
 * Levels merged until each stands for MIN_PARTICIPANTS_PER_LEVEL participants; a short tail joins the level before it.
 */
export function publicCurve(book: readonly CurveOrder[], side: 'bid' | 'offer'): CurvePoint[] {
  const merged: Level[] = [];
  let group: Level | null = null;
  for (const l of levels(book, side)) {
    group = group
      ? { price: l.price, wh: group.wh + l.wh, participants: new Set([...group.participants, ...l.participants]) }
      : { ...l, participants: new Set(l.participants) };
    if (group.participants.size >= MIN_PARTICIPANTS_PER_LEVEL) {
      merged.push(group);
      group = null;
    }
  }
  if (group) {
    const last = merged.pop();
    if (!last) return [];
    merged.push({
      price: group.price,
      wh: last.wh + group.wh,
      participants: new Set([...last.participants, ...group.participants]),
    });
  }
  return cumulative(merged);
}
