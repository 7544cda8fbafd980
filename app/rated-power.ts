import type { Config } from '../core/config/schema.js';
import type { EventBus } from '../core/events.js';
import type { Ledger } from '../ledger/ledger.js';
import { setMeterRatedPower, type RatedPowerSource } from '../ledger/meter-data.js';
import type { DeviceReader, ReportedRatedPower } from '../meter-bridge/devices/measurement.js';
import { DEFAULT_RATED_POWER_W } from '../settlement/meter-data/index.js';

/**
 * The rated power each meter's data is validated with, first found of:
 * 1. config: the meter's `ratedPowerW`, else its device's
 *    (`bridge.devices[].ratedPowerW`, what an installer copies from a label);
 * 2. device: what the device states (SunSpec nameplate model 120 WRtg ×
 *    10^WRtg_SF for the inverter's pv meter, or a profile's `ratedPowerW`);
 * 3. default: the conservative default of its role (settlement/meter-data/rules.ts).
 * Stored with its source in meters.rated_power_w / rated_power_source, so the
 * audit validates with the same figure.
 */
export interface RatedPower {
  meterId: string;
  ratedPowerW: number;
  source: RatedPowerSource;
  /** For a device's figure: which register or field it came from. */
  from?: string;
}

export function ratedPowers(
  config: Pick<Config, 'participants' | 'bridge'>,
  reported: readonly ReportedRatedPower[] = [],
): RatedPower[] {
  const devices = new Map(config.bridge.devices.map((d) => [d.id, d]));
  const stated = new Map(reported.map((r) => [r.meterId, r]));
  return config.participants.flatMap((p) =>
    p.meters.map((m): RatedPower => {
      if (m.ratedPowerW !== undefined) return { meterId: m.id, ratedPowerW: m.ratedPowerW, source: 'config' };
      const d = m.device === undefined ? undefined : devices.get(m.device);
      if (d?.ratedPowerW !== undefined) return { meterId: m.id, ratedPowerW: d.ratedPowerW, source: 'config' };
      const s = stated.get(m.id);
      if (s) return { meterId: m.id, ratedPowerW: s.ratedPowerW, source: 'device', from: s.from };
      return { meterId: m.id, ratedPowerW: DEFAULT_RATED_POWER_W[m.role], source: 'default' };
    }),
  );
}

interface Log {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface FollowRatedPowersOptions {
  ledger: Ledger;
  config: Pick<Config, 'participants' | 'bridge'>;
  readers: readonly DeviceReader[];
  bus: EventBus;
  log: Log;
}

/**
 * Stores every meter's rated power now (config, a profile's figure, or the
 * default), and again when a SunSpec device is first set up (its nameplate is
 * read at discovery, before its first reading is stored, so no interval is
 * validated with a figure the device later contradicts). Warns once per meter
 * left on the default: at start for a meter no device can rate, after its
 * device's discovery for a pv meter on a SunSpec inverter without a usable
 * model 120.
 */
export function followRatedPowers(o: FollowRatedPowersOptions): RatedPower[] {
  const byDevice = new Map(o.readers.map((r) => [r.deviceId, r]));
  const deviceOf = new Map(
    o.config.participants.flatMap((p) => p.meters.map((m) => [m.id, { device: m.device, role: m.role }] as const)),
  );
  // A pv meter on a SunSpec device may be rated by its nameplate once discovered.
  const awaitsNameplate = (meterId: string): boolean => {
    const m = deviceOf.get(meterId);
    const r = m?.device === undefined ? undefined : byDevice.get(m.device);
    return m?.role === 'pv' && r !== undefined && r.describe().kind === 'sunspec' && !r.ready;
  };
  const stored = new Map<string, string>();
  const warned = new Set<string>();
  const apply = (): RatedPower[] => {
    const rated = ratedPowers(
      o.config,
      o.readers.flatMap((r) => (r.ratedPowers ? r.ratedPowers() : [])),
    );
    for (const r of rated) {
      const k = `${r.ratedPowerW}/${r.source}`;
      if (stored.get(r.meterId) === k) continue;
      setMeterRatedPower(o.ledger, r.meterId, r.ratedPowerW, r.source);
      if (r.source === 'device')
        o.log.info(
          { meter: r.meterId, ratedPowerW: r.ratedPowerW, from: r.from },
          `meter ${r.meterId}: rated ${r.ratedPowerW} W from the device (${r.from})`,
        );
      stored.set(r.meterId, k);
    }
    const unrated = rated.filter(
      (r) => r.source === 'default' && !warned.has(r.meterId) && !awaitsNameplate(r.meterId),
    );
    if (unrated.length > 0) {
      for (const r of unrated) warned.add(r.meterId);
      o.log.warn(
        { meters: unrated.map((r) => r.meterId) },
        `${unrated.length} meter(s) have no ratedPowerW (config participants[].meters[] or bridge.devices[], nor from the device): validated with the role default (grid ${DEFAULT_RATED_POWER_W.grid} W, pv ${DEFAULT_RATED_POWER_W.pv} W): ${unrated
          .slice(0, 5)
          .map((r) => r.meterId)
          .join(', ')}${unrated.length > 5 ? ', …' : ''}`,
      );
    }
    return rated;
  };
  const waiting = new Set(o.readers.filter((r) => r.describe().kind === 'sunspec').map((r) => r.deviceId));
  if (waiting.size > 0) {
    const off = o.bus.on('device-health', (e) => {
      if (!waiting.has(e.deviceId) || !byDevice.get(e.deviceId)?.ready) return;
      waiting.delete(e.deviceId);
      apply();
      if (waiting.size === 0) off();
    });
  }
  return apply();
}
