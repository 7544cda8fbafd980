import type {
  AlarmEvent,
  DeviceHealthEvent,
  IntervalClearedEvent,
  MicrogridEvent,
  ReadingQuality,
  SettlementStateEvent,
} from '../../core/events.js';

/**
 * The live state of the microgrid as the WebSocket stream carries it. This
 * file is shared by the server (which keeps the state and cuts views of it)
 * and the browser client (which applies the same deltas with the same
 * reducer), so both sides agree on what a delta means. No Node imports here.
 *
 * Power sign convention (the meter bridge's, meter-bridge/devices/measurement.ts):
 * positive = energy flowing in from the grid (import, consumption), negative =
 * flowing out (export, PV production). So a grid meter is + when the household
 * imports, − when it exports, and a pv meter is − while it generates.
 */

export interface MeterLive {
  meterId: string;
  participantId: string | null;
  role: 'grid' | 'pv' | null;
  /** The bridge device that reads this meter (bridge.devices, or the demo's simulator), when known. */
  deviceId: string | null;
  powerW: number | null;
  importWh: number | null;
  exportWh: number | null;
  ts: string | null;
  quality: ReadingQuality | null;
}

export interface Balance {
  /** Σ pv generation (−powerW of pv meters while negative), W; null when no pv meter has reported. */
  generationW: number | null;
  /** Net grid + generation: what the households use, W. */
  consumptionW: number | null;
  /** Net exchange of the microgrid with the utility: Σ grid meters, W (positive = import). */
  netGridW: number | null;
  gridImportW: number | null;
  gridExportW: number | null;
  /** Households' export consumed by neighbours right now, W: min(Σ export, Σ import). */
  localW: number | null;
  /** 1 − import / consumption, 0..1; null without consumption. */
  selfSufficiency: number | null;
  metersReporting: number;
  metersKnown: number;
  tradedWhInterval: number;
  tradedWhToday: number;
  lastClearingPrice: string | null;
  lastClearedInterval: string | null;
}

export interface LiveState {
  microgrid: string;
  currency: string;
  intervalMinutes: number;
  currentInterval: string | null;
  currentIntervalState: string | null;
  meters: Record<string, MeterLive>;
  devices: Record<string, Omit<DeviceHealthEvent, 'type'>>;
  /** Newest first, at most MAX_ALARMS; `clearedAt` when an event ended it. currentAlarms() says which are in force. */
  alarms: (AlarmEvent & { clearedAt?: string })[];
  lastCleared: IntervalClearedEvent | null;
  /** Latest settlement state per interval, newest first, at most MAX_SETTLEMENTS. */
  settlements: SettlementStateEvent[];
  /** The newest interval that reached `metered` since the server started (alarms about older intervals are history). */
  lastMetered: string | null;
  balance: Balance;
}

export interface SnapshotFrame {
  type: 'snapshot';
  seq: number;
  /** Server wall time (epoch ms) the frame was cut. */
  t: number;
  /**
   * The market clock (epoch ms) when the frame was cut: what the page's time axes use (an accelerated demo runs ahead
   * of the wall).
   */
  market: number;
  state: LiveState;
}

/**
 * A reading in a delta: `[powerW, importWh, exportWh]`, with the reading's time and quality the frame's `ts` and
 * `quality` unless given as a fourth and fifth element (`null` in the fourth: the frame's `ts`).
 */
export type ReadingTuple =
  | [number | null, number | null, number | null]
  | [number | null, number | null, number | null, string | null]
  | [number | null, number | null, number | null, string | null, ReadingQuality];

/**
 * What changed since the previous frame of the same view: applied to the state the client holds (a snapshot and
 * every delta since), it gives the state the server holds at `seq` (applyDelta). Every field but the header and
 * `events` is absent when nothing of it changed.
 */
export interface DeltaFrame {
  type: 'delta';
  seq: number;
  /** Server wall time (epoch ms) the first event of this frame arrived: latency is measured from here. */
  t: number;
  /** The market clock (epoch ms) when the frame was cut. */
  market: number;
  /**
   * The view's scope changed in this frame (a meter changed hands): nothing else is carried, the client asks for a
   * snapshot (it reconnects without `since`).
   */
  resync?: true;
  /** The time and quality shared by the readings below (the most common ones: one poll round). */
  ts?: string;
  quality?: ReadingQuality;
  /** Meters with a new reading: id → [powerW, importWh, exportWh, ts?, quality?]. */
  readings?: Record<string, ReadingTuple>;
  /** Any other change of a meter: the fields that changed; a meter new to the view comes with every field. */
  meters?: Record<string, Partial<MeterLive>>;
  /** Meters no longer in the state. */
  gone?: string[];
  /** The balance fields that moved. */
  balance?: Partial<Balance>;
  /** The interval containing the market clock's now and its lifecycle state, when either moved. */
  current?: { interval: string; state: string | null };
  /**
   * Every event of the frame but readings (those are in `readings`), in order: device health, interval lifecycle,
   * clearings, settlements, alarms (an alarm that ends another is how a cleared alarm is expressed).
   */
  events: Exclude<MicrogridEvent, { type: 'reading' }>[];
}

export type StreamFrame = SnapshotFrame | DeltaFrame;

export const MAX_ALARMS = 50;
export const MAX_SETTLEMENTS = 50;

export function emptyBalance(): Balance {
  return {
    generationW: null,
    consumptionW: null,
    netGridW: null,
    gridImportW: null,
    gridExportW: null,
    localW: null,
    selfSufficiency: null,
    metersReporting: 0,
    metersKnown: 0,
    tradedWhInterval: 0,
    tradedWhToday: 0,
    lastClearingPrice: null,
    lastClearedInterval: null,
  };
}

/** Applies one event to the state in place. Readings for unknown meters are kept (role unknown). */
export function applyEvent(s: LiveState, e: MicrogridEvent): void {
  switch (e.type) {
    case 'reading': {
      const m = (s.meters[e.meterId] ??= blankMeter(e.meterId));
      m.powerW = e.powerW;
      m.importWh = e.importWh;
      m.exportWh = e.exportWh;
      m.ts = e.ts;
      m.quality = e.quality;
      movePoll(s, m);
      break;
    }
    case 'device-health':
      // The bridge keeps a device's last error after it recovers (it is history); an online device shows none.
      s.devices[e.deviceId] = {
        deviceId: e.deviceId,
        status: e.status,
        lastError: e.status === 'online' ? null : e.lastError,
        lastPollAt: e.lastPollAt,
      };
      break;
    case 'interval-state':
      // Intervals are opened, closed and even cleared ahead of time: which one is current is the
      // server's call (DeltaFrame.current), an event only updates the state of that one.
      if (e.interval === s.currentInterval) s.currentIntervalState = e.state;
      if (e.state === 'metered' && (s.lastMetered === null || e.interval > s.lastMetered)) s.lastMetered = e.interval;
      break;
    case 'interval-cleared':
      s.lastCleared = e;
      break;
    case 'settlement-state':
      s.settlements = [e, ...s.settlements.filter((x) => x.interval !== e.interval)].slice(0, MAX_SETTLEMENTS);
      break;
    case 'alarm':
      // Kept newest first (currentAlarms reads a recovery before the alarm it ends); an event that names the alarm it
      // clears marks it.
      s.alarms = [
        e,
        ...s.alarms.map((a) =>
          a.clearedAt === undefined && e.clears === a.code && a.subject === e.subject ? { ...a, clearedAt: e.at } : a,
        ),
      ].slice(0, MAX_ALARMS);
      break;
  }
}

/**
 * Applies a delta frame: meters gone, the meters' changed fields, the events in order, the new readings, then the
 * balance fields and current interval it carries. A reading moves its device's last poll as applyEvent does (the
 * events first, so a device-health event of the same frame is overtaken by a newer reading on both sides).
 */
export function applyDelta(s: LiveState, f: DeltaFrame): void {
  for (const id of f.gone ?? []) delete s.meters[id];
  const polled: MeterLive[] = [];
  for (const [id, patch] of Object.entries(f.meters ?? {})) {
    const m = (s.meters[id] ??= blankMeter(id));
    const ts = m.ts;
    Object.assign(m, patch);
    if (m.ts !== ts) polled.push(m);
  }
  for (const e of f.events) applyEvent(s, e);
  for (const [id, r] of Object.entries(f.readings ?? {})) {
    const m = (s.meters[id] ??= blankMeter(id));
    m.powerW = r[0];
    m.importWh = r[1];
    m.exportWh = r[2];
    m.ts = r[3] ?? f.ts ?? null;
    m.quality = r[4] ?? f.quality ?? null;
    polled.push(m);
  }
  for (const m of polled) movePoll(s, m);
  if (f.balance) s.balance = { ...s.balance, ...f.balance };
  if (f.current) {
    s.currentInterval = f.current.interval;
    s.currentIntervalState = f.current.state;
  }
}

/** The meters a delta brings a new reading of, with that reading (tuples and patches that move `ts`). */
export function deltaReadings(
  f: DeltaFrame,
): Pick<MeterLive, 'meterId' | 'powerW' | 'importWh' | 'exportWh' | 'ts' | 'quality'>[] {
  const out = Object.entries(f.readings ?? {}).map(([meterId, r]) => ({
    meterId,
    powerW: r[0],
    importWh: r[1],
    exportWh: r[2],
    ts: r[3] ?? f.ts ?? null,
    quality: r[4] ?? f.quality ?? null,
  }));
  for (const [meterId, m] of Object.entries(f.meters ?? {}))
    if (m.ts !== undefined && m.ts !== null)
      out.push({
        meterId,
        powerW: m.powerW ?? null,
        importWh: m.importWh ?? null,
        exportWh: m.exportWh ?? null,
        ts: m.ts,
        quality: m.quality ?? null,
      });
  return out;
}

export function blankMeter(meterId: string): MeterLive {
  return {
    meterId,
    participantId: null,
    role: null,
    deviceId: null,
    powerW: null,
    importWh: null,
    exportWh: null,
    ts: null,
    quality: null,
  };
}

/**
 * The bridge reports device health only when the status changes; each reading is a poll that answered, so it moves
 * the device's "last poll" (which would otherwise be hours old).
 */
function movePoll(s: LiveState, m: MeterLive): void {
  const d = m.deviceId === null ? undefined : s.devices[m.deviceId];
  if (d && m.ts !== null && (d.lastPollAt === null || m.ts > d.lastPollAt)) d.lastPollAt = m.ts;
}

/** The balance strip's power figures from the meters' latest readings. */
export function powerBalance(
  meters: Iterable<MeterLive>,
): Pick<
  Balance,
  | 'generationW'
  | 'consumptionW'
  | 'netGridW'
  | 'gridImportW'
  | 'gridExportW'
  | 'localW'
  | 'selfSufficiency'
  | 'metersReporting'
  | 'metersKnown'
> {
  let gen = 0;
  let net = 0;
  let imports = 0;
  let exports = 0;
  let pvSeen = 0;
  let gridSeen = 0;
  let known = 0;
  for (const m of meters) {
    known++;
    if (m.powerW === null || m.quality === 'missing' || m.role === null) continue;
    if (m.role === 'pv') {
      // An inverter's standby draw (+) is already inside its household's grid meter reading.
      gen += Math.max(0, -m.powerW);
      pvSeen++;
    } else {
      net += m.powerW;
      if (m.powerW > 0) imports += m.powerW;
      else exports -= m.powerW;
      gridSeen++;
    }
  }
  const reporting = pvSeen + gridSeen;
  if (gridSeen === 0) {
    return {
      generationW: pvSeen ? gen : null,
      consumptionW: null,
      netGridW: null,
      gridImportW: null,
      gridExportW: null,
      localW: null,
      selfSufficiency: null,
      metersReporting: reporting,
      metersKnown: known,
    };
  }
  const consumption = net + gen;
  const gridImport = Math.max(0, net);
  return {
    generationW: pvSeen ? gen : null,
    consumptionW: consumption,
    netGridW: net,
    gridImportW: gridImport,
    gridExportW: Math.max(0, -net),
    localW: Math.min(imports, exports),
    selfSufficiency: consumption > 0 ? Math.max(0, Math.min(1, 1 - gridImport / consumption)) : null,
    metersReporting: reporting,
    metersKnown: known,
  };
}

/**
 * The alarms still in force, most severe first, one per subject and code. An
 * alarm ends when (a) an `info` alarm about the same subject follows it (a
 * device answering again, the chain returning), (b) it is about a device that
 * is online now, or (c) a later interval has been metered since (an interval's
 * data problem, a clock jump: they belong to history then). The chain's
 * alarms end only by (a).
 * Devices that are stale or offline with no alarm of their own are listed in
 * the same form, so one device never shows twice in two formats.
 */
export function currentAlarms(s: LiveState): AlarmEvent[] {
  const seen = new Set<string>();
  const ended = new Set<string>();
  const out: AlarmEvent[] = [];
  // s.alarms is newest first: a recovery is met before the alarm it ends.
  for (const a of s.alarms) {
    // A recovery (info) or an event naming the alarm it clears ends what came before it about that subject.
    if (a.severity === 'info' || a.clears !== undefined) {
      ended.add(a.subject);
      continue;
    }
    if (a.clearedAt !== undefined) continue;
    const key = `${a.code} ${a.subject}`;
    if (seen.has(key) || ended.has(a.subject)) continue;
    seen.add(key);
    const device = s.devices[a.subject];
    if (device) {
      if (device.status === 'online') continue;
    } else if (a.subject !== 'chain' && s.lastMetered !== null) {
      // About an interval: over once a later one is metered; about anything else (the clock, a meter): once an interval
      // that began after it is.
      const about = /^\d{4}-\d\d-\d\dT/.test(a.subject) ? a.subject : a.at;
      if (s.lastMetered > about) continue;
    }
    out.push(a);
  }
  const alarmed = new Set(out.map((a) => a.subject));
  for (const d of Object.values(s.devices)) {
    // A sleeping device answered (an inverter at night): not a fault, no entry (core/events.ts DeviceStatus).
    if (d.status === 'online' || d.status === 'asleep' || alarmed.has(d.deviceId)) continue;
    out.push({
      type: 'alarm',
      severity: d.status === 'offline' ? 'critical' : 'warning',
      code: `DEVICE_${d.status.toUpperCase()}`,
      subject: d.deviceId,
      message: `device ${d.deviceId} is ${d.status}${d.lastError ? ` (${d.lastError})` : ''}`,
      at: d.lastPollAt ?? '',
    });
  }
  for (const x of s.settlements) {
    if ((x.state === 'error' || x.state.endsWith(':reverted')) && !alarmed.has(x.interval))
      out.push({
        type: 'alarm',
        severity: 'critical',
        code: 'SETTLEMENT_FAILED',
        subject: x.interval,
        message: `settlement of ${x.interval}: ${x.state}`,
        at: '',
      });
  }
  const rank = { critical: 0, warning: 1, info: 2 } as const;
  return out.sort((a, b) => rank[a.severity] - rank[b.severity]);
}
