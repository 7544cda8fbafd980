import type { Config } from '../core/config/schema.js';
import { DEFAULT_RATED_POWER_W } from '../settlement/meter-data/index.js';

/**
 * The rated power each meter's data is validated with: the meter's
 * `ratedPowerW` in the config, else its device's (`bridge.devices[].ratedPowerW`,
 * the nameplate an installer copies from the inverter or a profile), else the
 * conservative default of its role (settlement/meter-data/rules.ts). Stored in
 * meters.rated_power_w, so the audit validates with the same figure.
 */
export interface RatedPower {
  meterId: string;
  ratedPowerW: number;
  source: 'config' | 'device' | 'default';
}

export function ratedPowers(config: Pick<Config, 'participants' | 'bridge'>): RatedPower[] {
  const devices = new Map(config.bridge.devices.map((d) => [d.id, d]));
  return config.participants.flatMap((p) =>
    p.meters.map((m): RatedPower => {
      if (m.ratedPowerW !== undefined) return { meterId: m.id, ratedPowerW: m.ratedPowerW, source: 'config' };
      const d = m.device === undefined ? undefined : devices.get(m.device);
      if (d?.ratedPowerW !== undefined) return { meterId: m.id, ratedPowerW: d.ratedPowerW, source: 'device' };
      return { meterId: m.id, ratedPowerW: DEFAULT_RATED_POWER_W[m.role], source: 'default' };
    }),
  );
}
