import type { Config } from './schema.js';
import { validateConfig } from './validate.js';

/**
 * The embedded demo configuration, used when no config file is given: a
 * microgrid of simulated households, on the defaults of the schema, with a
 * market clock sixty times faster than the wall so intervals clear within a
 * minute of `npm start`, starting at 08:00 UTC so there is surplus to trade.
 */
export function demoConfig(households = 12, now: number = Date.now()): Config {
  // The demo's accelerated day starts at 08:00 UTC today, so its panels have sun whenever it is started.
  const startAt = new Date(Math.floor(now / 86_400_000) * 86_400_000 + 8 * 3_600_000)
    .toISOString()
    .replace('.000Z', 'Z');
  const participants = Array.from({ length: households }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    // Every third household has no panels; the others export around midday.
    const hasPv = i % 3 !== 2;
    return {
      id: `h${n}`,
      name: `Household ${n}`,
      zone: i < households / 2 ? 'north' : 'south',
      meters: [
        { id: `h${n}-grid`, role: 'grid' as const },
        ...(hasPv ? [{ id: `h${n}-pv`, role: 'pv' as const }] : []),
      ],
      policy: { minSellPrice: '0.1000', maxBuyPrice: '0.2500' },
    };
  });
  return validateConfig(
    {
      microgrid: { name: 'Demo microgrid' },
      // At speed 60 a device is polled once per market minute: give late readings three.
      market: { intervalMinutes: 15, gracePeriodSeconds: 180 },
      clock: { speed: 60, startAt },
      participants,
      demo: { enabled: true, households },
    },
    'the embedded demo configuration',
  );
}
