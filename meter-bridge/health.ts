import type { DeviceHealthEvent, DeviceStatus } from '../core/events.js';

/**
 * Per-device health. A cycle in which the device gave no reading (an error,
 * or the previous poll still hanging when the next cycle starts) is a missed
 * cycle: one or more make it `stale`, `offlineAfter` in a row make it
 * `offline` (three by default). The first good reading makes it `online`
 * again; nothing needs restarting.
 */
export interface DeviceHealth {
  deviceId: string;
  status: DeviceStatus;
  lastError: string | null;
  lastErrorCode: string | null;
  lastPollAt: string | null;
  lastSuccessAt: string | null;
  reads: number;
  failures: number;
  missedCycles: number;
  /** Round-trip of the last successful poll (all its requests), ms. */
  lastLatencyMs: number | null;
  /** Exponential moving average of poll latency, ms. */
  avgLatencyMs: number | null;
  requestsPerRead: number;
  /** MQTT meters: messages refused (METER_PAYLOAD_INVALID); each stored no reading. */
  rejectedMessages: number;
  /** MQTT meters: measurements dropped for arriving within one poll period of the last one taken. */
  droppedMessages: number;
}

export class HealthTracker {
  readonly #h: DeviceHealth;
  readonly #offlineAfter: number;

  constructor(deviceId: string, offlineAfter = 3) {
    this.#offlineAfter = offlineAfter;
    this.#h = {
      deviceId,
      // Unknown until the first poll: stale, not online.
      status: 'stale',
      lastError: null,
      lastErrorCode: null,
      lastPollAt: null,
      lastSuccessAt: null,
      reads: 0,
      failures: 0,
      missedCycles: 0,
      lastLatencyMs: null,
      avgLatencyMs: null,
      requestsPerRead: 0,
      rejectedMessages: 0,
      droppedMessages: 0,
    };
  }

  get snapshot(): DeviceHealth {
    return { ...this.#h };
  }

  /** Returns true when the status changed. */
  success(at: string, latencyMs: number, requestsPerRead: number, asleep = false): boolean {
    const before = this.#h.status;
    this.#h.reads++;
    this.#h.lastPollAt = at;
    this.#h.lastSuccessAt = at;
    this.#h.missedCycles = 0;
    this.#h.lastLatencyMs = latencyMs;
    this.#h.avgLatencyMs = this.#h.avgLatencyMs === null ? latencyMs : this.#h.avgLatencyMs * 0.9 + latencyMs * 0.1;
    this.#h.requestsPerRead = requestsPerRead;
    this.#h.status = asleep ? 'asleep' : 'online';
    return before !== this.#h.status;
  }

  failure(at: string, err: unknown): boolean {
    this.#h.failures++;
    this.#h.lastPollAt = at;
    const e = err as { message?: string; code?: string };
    this.#h.lastError = e?.message ?? String(err);
    this.#h.lastErrorCode = typeof e?.code === 'string' ? e.code : null;
    return this.missed();
  }

  /** A cycle passed with no reading. */
  missed(): boolean {
    const before = this.#h.status;
    this.#h.missedCycles++;
    this.#h.status = this.#h.missedCycles >= this.#offlineAfter ? 'offline' : 'stale';
    return before !== this.#h.status;
  }

  /**
   * MQTT meters push, so there are no cycles to miss: health follows the
   * device's own availability message (Tasmota LWT, Shelly online) and the
   * bridge's link to the broker. Offline says why. Returns true when the
   * status changed.
   */
  availability(at: string, online: boolean, reason: string | null): boolean {
    const before = this.#h.status;
    this.#h.lastPollAt = at;
    if (online) {
      this.#h.status = 'online';
    } else {
      this.#h.status = 'offline';
      if (reason) this.#h.lastError = reason;
    }
    return before !== this.#h.status;
  }

  /** The broker link is down: nothing can arrive, the device is not known offline. */
  unreachable(at: string, reason: string): boolean {
    const before = this.#h.status;
    this.#h.lastPollAt = at;
    this.#h.lastError = reason;
    this.#h.lastErrorCode = 'MQTT_UNAVAILABLE';
    if (this.#h.status !== 'offline') this.#h.status = 'stale';
    return before !== this.#h.status;
  }

  /** A message refused: counted, its reason kept; the status stays (the device did speak). */
  rejected(at: string, err: unknown): void {
    this.#h.rejectedMessages++;
    this.#h.failures++;
    this.#h.lastPollAt = at;
    const e = err as { message?: string; code?: string };
    this.#h.lastError = e?.message ?? String(err);
    this.#h.lastErrorCode = typeof e?.code === 'string' ? e.code : null;
  }

  dropped(): void {
    this.#h.droppedMessages++;
  }

  event(): DeviceHealthEvent {
    return {
      type: 'device-health',
      deviceId: this.#h.deviceId,
      status: this.#h.status,
      lastError: this.#h.lastError,
      lastPollAt: this.#h.lastPollAt,
    };
  }
}
