import type { EventBus } from '../../core/events.js';
import type { Ledger } from '../../ledger/ledger.js';
import { listMeters } from '../../ledger/participants.js';

/**
 * Stands in for the meter bridge until issue 7 wires the real one: every
 * `periodMs` it emits one reading per meter on the bus (pv following a slow
 * sine, reported negative as the bridge does; households' grid meters =
 * load − pv), plus device health. Values are
 * produced here, so what the page shows can be checked against them.
 */
export function startLiveFeed(
  bus: EventBus,
  ledger: Ledger,
  periodMs = 1000,
): { stop(): void; last: Map<string, number> } {
  const meters = listMeters(ledger);
  const last = new Map<string, number>();
  let tick = 0;
  const counters = new Map<string, { imp: number; exp: number }>();
  const round = (): void => {
    tick++;
    const now = new Date().toISOString();
    for (const m of meters) {
      const n = Number(m.participantId.replace(/\D/g, '')) || 1;
      const pv = m.participantId === 'h03' ? 0 : Math.round(1500 + 800 * Math.sin(tick / 5 + n));
      const load = 700 + 150 * n;
      // The bridge's sign: + flows in from the grid, − flows out (export, PV production).
      const power = m.role === 'pv' ? -pv : load - (m.participantId === 'h03' ? 0 : pv);
      const c = counters.get(m.id) ?? { imp: 10_000, exp: 5_000 };
      if (power > 0) c.imp += Math.round(power / 3600);
      else c.exp += Math.round(-power / 3600);
      counters.set(m.id, c);
      last.set(m.id, power);
      bus.emit({
        type: 'reading',
        meterId: m.id,
        ts: now,
        powerW: power,
        importWh: c.imp,
        exportWh: c.exp,
        voltageV: 230.1,
        frequencyHz: 50,
        quality: 'good',
      });
    }
    for (const d of new Set(meters.map((m) => m.deviceId).filter((x): x is string => x !== null))) {
      bus.emit({ type: 'device-health', deviceId: d, status: 'online', lastError: null, lastPollAt: now });
    }
  };
  round();
  const timer = setInterval(round, periodMs);
  return { stop: () => clearInterval(timer), last };
}
