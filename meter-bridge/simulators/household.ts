import type { Clock } from '../../core/clock.js';
import { loadShape, loadW, pvFraction, type LoadShape } from './curves.js';
import { ModbusException, startRegisterServer } from './register-server.js';
import { SunSpecImage } from './sunspec-image.js';

export interface SimulatedHouseholdOptions {
  clock: Clock;
  /** Household number: seeds its load profile and names it. */
  index: number;
  /** PV peak, W (0 = no PV: a pure consumer). Default 3000–6000 W from the index. */
  peakPvW?: number;
  host?: string;
  port?: number;
  /** Lifetime counters at start, Wh. */
  startImportWh?: number;
  startExportWh?: number;
  startPvWh?: number;
}

export interface SimulatedHousehold {
  index: number;
  host: string;
  port: number;
  /** The SunSpec unit id serving the inverter (103) and grid meter (203). */
  unitId: number;
  image: SunSpecImage;
  /** Current simulated values (after the last update). */
  state(): { pvW: number; loadW: number; gridW: number; importWh: number; exportWh: number; pvWh: number };
  close(): Promise<void>;
}

/**
 * One household on the wire: a SunSpec device (common model, inverter 103,
 * wye meter 203) on modbus-serial's ServerTCP. Values follow market time:
 * PV on a daily bell curve, consumption with a morning and an evening peak;
 * counters integrate them. At night the inverter reports W and Hz as "not
 * implemented" (0x8000 / 0xFFFF), as real inverters in standby do.
 */
export async function startSimulatedHousehold(o: SimulatedHouseholdOptions): Promise<SimulatedHousehold> {
  const shape: LoadShape = loadShape(o.index + 1);
  const peak = o.peakPvW ?? 3000 + ((o.index * 1237) % 3001);
  const image = new SunSpecImage([
    { id: 1, values: { Mn: 'microgrid-exchange', Md: 'SimHousehold', SN: `SIM-${o.index}`, Vr: '1.0' } },
    { id: 103, values: { W_SF: 0, Hz_SF: -2, V_SF: -1, A_SF: -2, WH_SF: 0 } },
    { id: 203, values: { W_SF: 0, Hz_SF: -2, V_SF: -1, A_SF: -2, TotWh_SF: 0 } },
  ]);
  let last = o.clock.now();
  // Fractional Wh carried between updates so the integer counters never drift.
  let imp = o.startImportWh ?? 1_000_000 + o.index * 1000;
  let exp = o.startExportWh ?? 500_000 + o.index * 1000;
  let pvWh = o.startPvWh ?? 800_000 + o.index * 1000;
  let cur = { pvW: 0, loadW: 0, gridW: 0 };

  const update = (): void => {
    const now = o.clock.now();
    const dtH = Math.max(0, now - last) / 3_600_000;
    last = now;
    const h = (now % 86_400_000) / 3_600_000;
    const pv = Math.round(peak * pvFraction(h));
    const load = Math.round(loadW(shape, h));
    const grid = load - pv;
    imp += Math.max(0, grid) * dtH;
    exp += Math.max(0, -grid) * dtH;
    pvWh += pv * dtH;
    cur = { pvW: pv, loadW: load, gridW: grid };
    const v = 2300 + (o.index % 7) * 3;
    image.set(103, 'W', pv > 0 ? pv : null);
    image.set(103, 'Hz', pv > 0 ? 5000 : null);
    image.set(103, 'PhVphA', pv > 0 ? v : null);
    image.set(103, 'WH', Math.floor(pvWh));
    image.set(203, 'W', grid);
    image.set(203, 'Hz', 5000);
    image.set(203, 'PhV', v);
    image.set(203, 'PhVphA', v);
    image.set(203, 'TotWhImp', Math.floor(imp));
    image.set(203, 'TotWhExp', Math.floor(exp));
  };
  update();
  const server = await startRegisterServer(
    (_unit, _fc, addr, count) => {
      update();
      const r = image.read(addr, count);
      if (!r) throw new ModbusException(2);
      return r;
    },
    { ...(o.host ? { host: o.host } : {}), ...(o.port ? { port: o.port } : {}) },
  );
  return {
    index: o.index,
    host: server.host,
    port: server.port,
    unitId: 1,
    image,
    state: () => ({ ...cur, importWh: Math.floor(imp), exportWh: Math.floor(exp), pvWh: Math.floor(pvWh) }),
    close: () => server.close(),
  };
}

export interface Simulators {
  households: SimulatedHousehold[];
  close(): Promise<void>;
}

/** Starts `count` simulated households on loopback, each on its own free port. */
export async function startSimulators(o: { clock: Clock; households: number; host?: string; firstIndex?: number }): Promise<Simulators> {
  const households: SimulatedHousehold[] = [];
  try {
    for (let i = 0; i < o.households; i++) households.push(await startSimulatedHousehold({ clock: o.clock, index: (o.firstIndex ?? 0) + i, ...(o.host ? { host: o.host } : {}) }));
  } catch (err) {
    await Promise.all(households.map((h) => h.close()));
    throw err;
  }
  return { households, close: async () => void (await Promise.all(households.map((h) => h.close()))) };
}
