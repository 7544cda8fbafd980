import type { ReadingQuality } from '../../core/events.js';
import type { Balance, DeltaFrame, MeterLive, ReadingTuple } from './model.js';

/** What changed in one frame for a client that sees everything: the body of a full view's delta (model.ts). */
export type FrameDiff = Omit<DeltaFrame, 'type' | 'seq' | 't' | 'market' | 'resync'>;

/** The fields a reading sets; a meter whose other fields moved goes out in `meters` with the fields that changed. */
const READING_FIELDS = new Set<keyof MeterLive>(['powerW', 'importWh', 'exportWh', 'ts', 'quality']);
const METER_FIELDS: (keyof MeterLive)[] = [
  'meterId',
  'participantId',
  'role',
  'deviceId',
  'powerW',
  'importWh',
  'exportWh',
  'ts',
  'quality',
];

/**
 * The difference between what the previous frame left (`sent`: meters, balance, and the current interval after this
 * frame's events, which the client applies before it) and the state now. A meter with a new reading is one tuple,
 * its time and quality shared with the frame when they are the frame's most common ones (one poll round); a meter
 * new to the state carries every field; a meter whose owner, role or device moved carries the fields that did.
 */
export function diffFrame(
  sent: ReadonlyMap<string, MeterLive>,
  meters: Record<string, MeterLive>,
  prevBalance: Balance,
  balance: Balance,
  afterEvents: { interval: string | null; state: string | null },
  current: { interval: string; state: string | null },
): FrameDiff {
  const diff: FrameDiff = { events: [] };
  const read: MeterLive[] = [];
  const patches: Record<string, Partial<MeterLive>> = {};
  let patched = false;
  for (const m of Object.values(meters)) {
    const was = sent.get(m.meterId);
    if (!was) {
      patches[m.meterId] = { ...m };
      patched = true;
      continue;
    }
    let other = false;
    let changed = false;
    for (const k of METER_FIELDS) {
      if (Object.is(was[k], m[k])) continue;
      changed = true;
      if (!READING_FIELDS.has(k)) other = true;
    }
    if (!changed) continue;
    // A reading always brings a newer ts (the hub drops any other); anything else is a patch of what moved.
    if (!other && m.ts !== null && m.ts !== was.ts) read.push(m);
    else {
      const p: Partial<MeterLive> = {};
      for (const k of METER_FIELDS) if (!Object.is(was[k], m[k])) (p as Record<string, unknown>)[k] = m[k];
      patches[m.meterId] = p;
      patched = true;
    }
  }
  if (patched) diff.meters = patches;
  const gone = [...sent.keys()].filter((id) => !(id in meters));
  if (gone.length) diff.gone = gone;
  if (read.length) {
    const ts = mostCommon(read.map((m) => m.ts!));
    const quality = mostCommon(read.map((m) => m.quality ?? 'good')) as ReadingQuality;
    diff.ts = ts;
    diff.quality = quality;
    const readings: Record<string, ReadingTuple> = {};
    for (const m of read) {
      readings[m.meterId] =
        m.quality !== quality
          ? [m.powerW, m.importWh, m.exportWh, m.ts === ts ? null : m.ts, m.quality!]
          : m.ts !== ts
            ? [m.powerW, m.importWh, m.exportWh, m.ts]
            : [m.powerW, m.importWh, m.exportWh];
    }
    diff.readings = readings;
  }
  const b: Partial<Balance> = {};
  let moved = false;
  for (const k of Object.keys(balance) as (keyof Balance)[]) {
    if (Object.is(prevBalance[k], balance[k])) continue;
    (b as Record<string, unknown>)[k] = balance[k];
    moved = true;
  }
  if (moved) diff.balance = b;
  if (afterEvents.interval !== current.interval || afterEvents.state !== current.state) diff.current = current;
  return diff;
}

function mostCommon(xs: string[]): string {
  const n = new Map<string, number>();
  let best = xs[0]!;
  let bestN = 0;
  for (const x of xs) {
    const c = (n.get(x) ?? 0) + 1;
    n.set(x, c);
    if (c > bestN) [best, bestN] = [x, c];
  }
  return best;
}
