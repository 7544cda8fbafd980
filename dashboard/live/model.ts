import type { AlarmEvent, DeviceHealthEvent, IntervalClearedEvent, MicrogridEvent, ReadingQuality, SettlementStateEvent } from '../../core/events.js';

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
  /** Newest first, at most MAX_ALARMS. */
  /** Current alarms first, then cleared ones and notices (`clearedAt` when an event ended it). */
  alarms: (AlarmEvent & { clearedAt?: string })[];
  lastCleared: IntervalClearedEvent | null;
  /** Latest settlement state per interval, newest first, at most MAX_SETTLEMENTS. */
  settlements: SettlementStateEvent[];
  balance: Balance;
}

export interface SnapshotFrame {
  type: 'snapshot';
  seq: number;
  /** Server wall time (epoch ms) the frame was cut. */
  t: number;
  state: LiveState;
}

export interface DeltaFrame {
  type: 'delta';
  seq: number;
  /** Server wall time (epoch ms) the first event of this frame arrived: latency is measured from here. */
  t: number;
  events: MicrogridEvent[];
  balance: Balance;
  /** The interval containing the market clock's now, and its lifecycle state in the ledger. */
  current: { interval: string; state: string | null };
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
      const m = (s.meters[e.meterId] ??= { meterId: e.meterId, participantId: null, role: null, powerW: null, importWh: null, exportWh: null, ts: null, quality: null });
      m.powerW = e.powerW;
      m.importWh = e.importWh;
      m.exportWh = e.exportWh;
      m.ts = e.ts;
      m.quality = e.quality;
      break;
    }
    case 'device-health':
      s.devices[e.deviceId] = { deviceId: e.deviceId, status: e.status, lastError: e.lastError, lastPollAt: e.lastPollAt };
      break;
    case 'interval-state':
      // Intervals are opened, closed and even cleared ahead of time: which one is current is the
      // server's call (DeltaFrame.current), an event only updates the state of that one.
      if (e.interval === s.currentInterval) s.currentIntervalState = e.state;
      break;
    case 'interval-cleared':
      s.lastCleared = e;
      break;
    case 'settlement-state':
      s.settlements = [e, ...s.settlements.filter((x) => x.interval !== e.interval)].slice(0, MAX_SETTLEMENTS);
      break;
    case 'alarm':
      s.alarms = orderAlarms([e, ...s.alarms.map((a) => (isCurrent(a) && e.clears === a.code && a.subject === e.subject ? { ...a, clearedAt: e.at } : a))]).slice(0, MAX_ALARMS);
      break;
  }
}

/** Applies a delta frame: its events, then the balance and current interval it carries. */
export function applyDelta(s: LiveState, f: DeltaFrame): void {
  for (const e of f.events) applyEvent(s, e);
  s.balance = f.balance;
  s.currentInterval = f.current.interval;
  s.currentIntervalState = f.current.state;
}

/** The balance strip's power figures from the meters' latest readings. */
export function powerBalance(meters: Iterable<MeterLive>): Pick<Balance, 'generationW' | 'consumptionW' | 'netGridW' | 'gridImportW' | 'gridExportW' | 'localW' | 'selfSufficiency' | 'metersReporting' | 'metersKnown'> {
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
    return { generationW: pvSeen ? gen : null, consumptionW: null, netGridW: null, gridImportW: null, gridExportW: null, localW: null, selfSufficiency: null, metersReporting: reporting, metersKnown: known };
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

/** An alarm is current until an event clears it; an event that clears is history itself. */
const isCurrent = (a: AlarmEvent & { clearedAt?: string }): boolean => a.clearedAt === undefined && a.clears === undefined && a.severity !== 'info';

/** Current alarms first (newest first), then the history (newest first). */
function orderAlarms(list: (AlarmEvent & { clearedAt?: string })[]): (AlarmEvent & { clearedAt?: string })[] {
  return [...list.filter(isCurrent), ...list.filter((a) => !isCurrent(a))];
}
