import type { MicrogridEvent } from '../../core/events.js';
import type { Principal } from '../auth.js';
import type { DeltaFrame, LiveState, SnapshotFrame } from './model.js';
import type { HubFrame } from './hub.js';

/**
 * Who sees what of the live stream. Operator and auditor: everything (one
 * view, "full"). A household: its own meters and devices, alarms about them,
 * settlements (when it has a meter), plus the aggregate. No token: the
 * aggregate only (balance, interval lifecycle, clearing). A view has a key so
 * each frame is cut and serialized once per view, not once per client.
 */
export type ViewKey = string;

export function viewKey(p: Principal | null): ViewKey {
  if (!p) return 'public';
  return p.role === 'household' ? `household:${p.participant}` : 'full';
}

interface ViewScope {
  meters: Set<string> | null;
  devices: Set<string> | null;
  alarms: boolean;
}

function scopeOf(p: Principal | null, state: LiveState, deviceOfMeter: Map<string, string>): ViewScope {
  if (p && p.role !== 'household') return { meters: null, devices: null, alarms: true };
  if (!p) return { meters: new Set(), devices: new Set(), alarms: false };
  const meters = new Set(
    Object.values(state.meters)
      .filter((m) => m.participantId === p.participant)
      .map((m) => m.meterId),
  );
  return householdScope(meters, deviceOfMeter);
}

function householdScope(meters: Set<string>, deviceOfMeter: Map<string, string>): ViewScope {
  const devices = new Set([...meters].map((m) => deviceOfMeter.get(m)).filter((d): d is string => d !== undefined));
  return { meters, devices, alarms: true };
}

function keep(e: MicrogridEvent, s: ViewScope): boolean {
  switch (e.type) {
    case 'reading':
      return s.meters === null || s.meters.has(e.meterId);
    case 'device-health':
      return s.devices === null || s.devices.has(e.deviceId);
    case 'alarm':
      // A household sees alarms about its own meters and devices only.
      return s.alarms && (s.meters === null || s.meters.has(e.subject) || (s.devices?.has(e.subject) ?? false));
    case 'settlement-state':
      return s.meters === null || s.meters.size > 0;
    default:
      return true;
  }
}

export class ViewCutter {
  readonly #deviceOfMeter: Map<string, string>;
  #cacheFrame: HubFrame | null = null;
  readonly #cache = new Map<ViewKey, Buffer>();
  /** Per owners map of the hub (one per change of hands), the meters of each participant. */
  readonly #byOwner = new WeakMap<ReadonlyMap<string, string | null>, Map<string, Set<string>>>();

  constructor(deviceOfMeter: Map<string, string>) {
    this.#deviceOfMeter = deviceOfMeter;
  }

  snapshot(state: LiveState, seq: number, p: Principal | null, market: number, t = Date.now()): SnapshotFrame {
    const s = scopeOf(p, state, this.#deviceOfMeter);
    const filtered: LiveState = {
      ...state,
      meters: Object.fromEntries(Object.entries(state.meters).filter(([id]) => s.meters === null || s.meters.has(id))),
      devices: Object.fromEntries(
        Object.entries(state.devices).filter(([id]) => s.devices === null || s.devices.has(id)),
      ),
      alarms: state.alarms.filter((a) => keep(a, s)),
      settlements: s.meters === null || s.meters.size > 0 ? state.settlements : [],
    };
    return { type: 'snapshot', seq, t, market, state: filtered };
  }

  /**
   * The frame serialized for a view; cached for the latest frame. A Buffer,
   * so ws sends the same bytes to every client of the view without encoding
   * the string again per client.
   */
  delta(frame: HubFrame, p: Principal | null): Buffer {
    if (this.#cacheFrame !== frame) {
      this.#cacheFrame = frame;
      this.#cache.clear();
    }
    const key = viewKey(p);
    let s = this.#cache.get(key);
    if (s === undefined) {
      s = Buffer.from(JSON.stringify(this.cut(frame, p)));
      this.#cache.set(key, s);
    }
    return s;
  }

  /** The wire frame of a view: the hub's diff with what the view may not see left out. */
  cut(frame: HubFrame, p: Principal | null): DeltaFrame {
    // The header first: clients (the bench) read type, seq and t from the first bytes.
    const head = { type: 'delta' as const, seq: frame.seq, t: frame.t, market: frame.market };
    const d = frame.diff;
    if (p && p.role !== 'household') return { ...head, ...d };
    const aggregate = {
      ...(d.balance ? { balance: d.balance } : {}),
      ...(d.current ? { current: d.current } : {}),
    };
    if (!p) {
      const scope: ViewScope = { meters: new Set(), devices: new Set(), alarms: false };
      return { ...head, ...aggregate, events: d.events.filter((e) => keep(e, scope)) };
    }
    // Its meters changed hands: what it may see of the history changed too, only a snapshot has it right.
    const participant = p.participant ?? '';
    if (frame.rescoped.has(participant)) return { ...head, resync: true, events: [] };
    const mine = this.#metersOf(frame.owners, participant);
    const scope = householdScope(mine, this.#deviceOfMeter);
    const out: DeltaFrame = { ...head, events: d.events.filter((e) => keep(e, scope)) };
    // Looked up by the household's few meters, not filtered from all of them: 1,000 households connected cost
    // 1,000 small cuts, not 1,000 walks of every meter.
    const pick = <T>(all: Record<string, T> | undefined): Record<string, T> | undefined => {
      if (!all) return undefined;
      const got = [...mine].filter((id) => id in all);
      return got.length ? Object.fromEntries(got.map((id) => [id, all[id]!])) : undefined;
    };
    const readings = pick(d.readings);
    if (readings) Object.assign(out, { ts: d.ts, quality: d.quality, readings });
    const meters = pick(d.meters);
    if (meters) out.meters = meters;
    // A meter gone from the state is gone from its owner's view (who owned it is in the owners of the frame before,
    // which changed with it: that owner was rescoped above).
    return Object.assign(out, aggregate);
  }

  #metersOf(owners: ReadonlyMap<string, string | null>, participant: string): Set<string> {
    let idx = this.#byOwner.get(owners);
    if (!idx) {
      idx = new Map();
      for (const [m, o] of owners) {
        if (o === null) continue;
        let set = idx.get(o);
        if (!set) idx.set(o, (set = new Set()));
        set.add(m);
      }
      this.#byOwner.set(owners, idx);
    }
    return idx.get(participant) ?? new Set();
  }
}
