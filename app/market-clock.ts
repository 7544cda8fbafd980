import { ScaledClock } from '../core/clock.js';
import type { Config } from '../core/config/schema.js';
import type { Ledger } from '../ledger/ledger.js';

interface Anchor {
  market: number;
  real: number;
  speed: number;
}

/**
 * The market clock of a running microgrid. At wall speed it is wall time. A
 * simulated clock (`clock.speed` ≠ 1 or `clock.startAt`) is anchored in the
 * ledger the first time, so a restart continues the simulated day where it
 * was instead of starting it again (which would send market time backwards
 * over intervals already settled). A new speed re-anchors at the current
 * market time.
 */
export function marketClock(ledger: Ledger, config: Config, speed: number, realNow: number = Date.now()): ScaledClock {
  if (speed === 1 && !config.clock.startAt) return new ScaledClock(1, realNow);
  const saved = ledger.getKv('clock.anchor');
  let anchor: Anchor | undefined = saved ? (JSON.parse(saved) as Anchor) : undefined;
  if (anchor && anchor.speed !== speed) {
    anchor = { market: anchor.market + Math.floor((realNow - anchor.real) * anchor.speed), real: realNow, speed };
    ledger.setKv('clock.anchor', JSON.stringify(anchor));
  }
  if (!anchor) {
    anchor = { market: config.clock.startAt ? Date.parse(config.clock.startAt) : realNow, real: realNow, speed };
    ledger.setKv('clock.anchor', JSON.stringify(anchor));
  }
  return new ScaledClock(speed, anchor.market + Math.floor((realNow - anchor.real) * speed));
}
