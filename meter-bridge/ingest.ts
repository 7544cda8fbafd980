import type { PrivateKeyAccount } from 'viem/accounts';
import type { ReadingEvent } from '../core/events.js';
import { fnv1a } from '../core/hash.js';
import type { BridgeContext } from './bridge-context.js';
import type { DeviceRuntime } from './device-runtime.js';
import type { Measurement } from './devices/measurement.js';
import { CounterGuard, type CounterGuardOptions } from './readings/validate.js';
import { signReading } from './readings/sign.js';
import { writeToSinks, type ReadingSink } from './sinks/reading-sink.js';

export interface IngestOptions {
  sinks: readonly ReadingSink[];
  /** The gateway key; without it readings are not signed. */
  signer: PrivateKeyAccount | null;
  /** One reading per meter per this period (and every suspect one) is recorded: signed, for the ledger. */
  recordEveryMs: number;
  guard: Partial<Omit<CounterGuardOptions, 'ratedPowerW'>>;
}

/** Takes one device's measurements of one moment (market time `ts`). */
export type Ingest = (rt: DeviceRuntime, ms: Measurement[], ts: number) => Promise<void>;

/**
 * The one path from measurements to readings, for polled and pushed devices
 * alike: counter plausibility, signing once per recordEveryMs (and every
 * suspect reading), the event bus, the sinks.
 */
export function createIngest(ctx: BridgeContext, o: IngestOptions): Ingest {
  const toReading = async (rt: DeviceRuntime, m: Measurement, ts: number): Promise<ReadingEvent> => {
    let guard = rt.guards.get(m.meterId);
    if (!guard)
      rt.guards.set(
        m.meterId,
        (guard = new CounterGuard({
          ...o.guard,
          ...(rt.device.ratedPowerW ? { ratedPowerW: rt.device.ratedPowerW } : {}),
        })),
      );
    const c = guard.check(m, ts);
    const r: ReadingEvent = {
      type: 'reading',
      meterId: m.meterId,
      ts: new Date(ts).toISOString(),
      powerW: m.powerW,
      importWh: c.importWh,
      exportWh: c.exportWh,
      voltageV: m.voltageV,
      frequencyHz: m.frequencyHz,
      quality: c.quality,
    };
    if (c.reasons.length > 0) r.reasons = c.reasons;
    // Meters are spread over the period by a fixed phase from their id, so recording (signing) is not one burst.
    const slot = Math.floor((ts + (fnv1a(m.meterId) % o.recordEveryMs)) / o.recordEveryMs);
    const record = rt.lastRecordSlot.get(m.meterId) !== slot || c.quality !== 'good';
    if (record && o.signer) {
      rt.lastRecordSlot.set(m.meterId, slot);
      return signReading(o.signer, r);
    }
    return r;
  };

  return async (rt, ms, ts) => {
    const readings = await Promise.all(ms.map((m) => toReading(rt, m, ts)));
    for (const r of readings) ctx.bus.emit(r);
    await writeToSinks(o.sinks, readings, ctx.log);
  };
}
