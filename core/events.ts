import type { IntervalState } from './interval-state.js';
import type { Wh, Watts, PriceString } from './units.js';

/**
 * The events modules exchange over the in-process bus. Each carries plain JSON
 * values (ISO timestamps, decimal strings), so the same objects go to the
 * WebSocket stream and to a bridge on another machine unchanged.
 */

export type ReadingQuality = 'good' | 'suspect' | 'missing';

export interface ReadingEvent {
  type: 'reading';
  meterId: string;
  /** ISO 8601 UTC time the reading was taken. */
  ts: string;
  powerW: Watts | null;
  importWh: Wh | null;
  exportWh: Wh | null;
  voltageV: number | null;
  frequencyHz: number | null;
  quality: ReadingQuality;
  /** Why a reading is `suspect` (e.g. `importWh-backwards`); absent when good. */
  reasons?: string[];
  /** EVM address of the gateway that signed the reading (meter-bridge/readings/sign.ts). */
  gateway?: string;
  /** EIP-712 signature over the reading's typed data, 0x-prefixed. */
  signature?: string;
}

/**
 * asleep: the device answers and says it sleeps (an inverter at night: SunSpec St OFF/SLEEPING/STANDBY, or only
 * sentinels): not a fault.
 */
export type DeviceStatus = 'online' | 'stale' | 'offline' | 'asleep';

export interface DeviceHealthEvent {
  type: 'device-health';
  deviceId: string;
  status: DeviceStatus;
  lastError: string | null;
  lastPollAt: string | null;
}

export interface IntervalStateEvent {
  type: 'interval-state';
  /** Interval start, ISO UTC. */
  interval: string;
  state: IntervalState;
  at: string;
}

export interface IntervalClearedEvent {
  type: 'interval-cleared';
  interval: string;
  kind: 'forward' | 'metered';
  clearingPrice: PriceString | null;
  matchedWh: Wh;
  trades: number;
}

export interface SettlementStateEvent {
  type: 'settlement-state';
  interval: string;
  state: string;
  txHash: string | null;
  /** Why, for `error` and the states that end a row: the chain's or the submitter's message. */
  detail?: string;
}

export type AlarmSeverity = 'info' | 'warning' | 'critical';

export interface AlarmEvent {
  type: 'alarm';
  severity: AlarmSeverity;
  /**
   * Stable alarm code: the project raises those of ALARM_CODES (core/alarm-codes.ts, documented in
   * docs/errors.md). Typed as a string because the stream carries what a bus is given.
   */
  code: string;
  message: string;
  /** What the alarm is about: a device id (DEVICE_*), an interval start (METER_DATA_*, SETTLEMENT_*). */
  subject: string;
  at: string;
  /** The code of the alarm (same subject) this one ends: DEVICE_ONLINE clears DEVICE_OFFLINE, and so on. */
  clears?: string;
}

export type MicrogridEvent =
  ReadingEvent | DeviceHealthEvent | IntervalStateEvent | IntervalClearedEvent | SettlementStateEvent | AlarmEvent;

export type EventType = MicrogridEvent['type'];
type EventOf<T extends EventType> = Extract<MicrogridEvent, { type: T }>;
type Listener<T extends EventType> = (e: EventOf<T>) => void;

/**
 * A small synchronous typed bus. A listener that throws does not stop the
 * others; the error goes to `onListenerError` (the app logs it).
 */
export class EventBus {
  readonly #listeners = new Map<EventType | '*', Set<(e: MicrogridEvent) => void>>();
  onListenerError: (err: unknown, e: MicrogridEvent) => void = () => {};

  on<T extends EventType>(type: T, fn: Listener<T>): () => void {
    return this.#add(type, fn as (e: MicrogridEvent) => void);
  }

  onAny(fn: (e: MicrogridEvent) => void): () => void {
    return this.#add('*', fn);
  }

  emit(e: MicrogridEvent): void {
    for (const key of [e.type, '*'] as const) {
      for (const fn of this.#listeners.get(key) ?? []) {
        try {
          fn(e);
        } catch (err) {
          this.onListenerError(err, e);
        }
      }
    }
  }

  #add(key: EventType | '*', fn: (e: MicrogridEvent) => void): () => void {
    let set = this.#listeners.get(key);
    if (!set) this.#listeners.set(key, (set = new Set()));
    set.add(fn);
    return () => void set.delete(fn);
  }
}
