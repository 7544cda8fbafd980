import type { ReadingEvent } from '../../core/events.js';
import type { ReadingSink } from './reading-sink.js';

/** The one thing the bridge needs from the ledger (ledger/readings.ts `insertReadings` fits it). */
export interface ReadingStore {
  insertReadings(readings: readonly ReadingEvent[]): void;
}

/**
 * Signed readings into the ledger, in process. The bridge imports only core/,
 * so the app hands it the ledger behind this interface:
 * `createStoreSink({ insertReadings: (rs) => insertReadings(ledger, rs, clock.now()) })`.
 */
export function createStoreSink(store: ReadingStore): ReadingSink {
  return { name: 'ledger', signedOnly: true, write: (readings) => store.insertReadings(readings) };
}
