import type { ReadingEvent } from '../../core/events.js';
import type { BridgeLogger } from '../logger.js';

/** Where readings go. `signedOnly` sinks (ledger, push) receive only recorded, signed readings. */
export interface ReadingSink {
  name: string;
  signedOnly: boolean;
  write(readings: ReadingEvent[]): void | Promise<void>;
  close?(): Promise<void>;
}

/**
 * Hands one device's readings to every sink, in order. A failing sink is
 * logged and does not keep the readings from the sinks after it.
 */
export async function writeToSinks(
  sinks: readonly ReadingSink[],
  readings: ReadingEvent[],
  log: BridgeLogger | undefined,
): Promise<void> {
  if (readings.length === 0) return;
  const signed = readings.filter((r) => r.signature !== undefined);
  for (const s of sinks) {
    const batch = s.signedOnly ? signed : readings;
    if (batch.length === 0) continue;
    try {
      await s.write(batch);
    } catch (err) {
      log?.error({ err, sink: s.name }, 'reading sink failed');
    }
  }
}
