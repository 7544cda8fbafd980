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

  event(): DeviceHealthEvent {
    return { type: 'device-health', deviceId: this.#h.deviceId, status: this.#h.status, lastError: this.#h.lastError, lastPollAt: this.#h.lastPollAt };
  }
}
