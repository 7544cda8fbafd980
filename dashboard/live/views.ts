import type { MicrogridEvent } from '../../core/events.js';
import type { Principal } from '../auth.js';
import type { DeltaFrame, LiveState, SnapshotFrame } from './model.js';

/**
 * Who sees what of the live stream. Operator and auditor: everything. A
 * household: its own meters and devices plus the aggregate. No token: the
 * aggregate only (balance, interval lifecycle, clearing). A view has a key so
 * each frame is serialized once per view, not once per client.
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
  #cacheFrame: DeltaFrame | null = null;
  readonly #cache = new Map<ViewKey, Buffer>();

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
  delta(frame: DeltaFrame, p: Principal | null, state: LiveState): Buffer {
    if (this.#cacheFrame !== frame) {
      this.#cacheFrame = frame;
      this.#cache.clear();
    }
    const key = viewKey(p);
    let s = this.#cache.get(key);
    if (s === undefined) {
      const scope = scopeOf(p, state, this.#deviceOfMeter);
      const events = scope.meters === null ? frame.events : frame.events.filter((e) => keep(e, scope));
      s = Buffer.from(JSON.stringify(events === frame.events ? frame : { ...frame, events }));
      this.#cache.set(key, s);
    }
    return s;
  }
}
