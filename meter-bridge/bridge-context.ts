import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { Inflight } from './inflight.js';
import type { BridgeLogger } from './logger.js';

/** What the parts of a running bridge share. */
export interface BridgeContext {
  /** Market time: reading timestamps. Polling runs on the wall clock (devices are real). */
  clock: Clock;
  bus: EventBus;
  log: BridgeLogger | undefined;
  inflight: Inflight;
  /** Set once stop() began: work that starts after it is skipped, failures it causes are not the device's. */
  stopped: boolean;
}
