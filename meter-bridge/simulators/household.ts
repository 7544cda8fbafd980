import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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
  /**
   * Where the lifetime counters are kept across restarts (a JSON file; the
   * demo puts it in the data folder). Absent: they start afresh each time.
   */
  stateFile?: string;
  /** Lifetime counters at the first start, Wh. */
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
 *
 * Counters integrate on a fixed grid of market time (the power at the start
 * of each 10 s step), so they are a function of market time alone: a
 * household restarted from its state file — however old — serves exactly the
 * counters it would have served had it never stopped (the time it was down
 * included, as a real meter keeps counting), never less than it served
 * before a crash. The file is written at most once a second of wall time
 * and on close; a lagging file loses nothing, the steps are summed again.
 */
export async function startSimulatedHousehold(o: SimulatedHouseholdOptions): Promise<SimulatedHousehold> {
  const shape: LoadShape = loadShape(o.index + 1);
  const peak = o.peakPvW ?? 3000 + ((o.index * 1237) % 3001);
  const image = new SunSpecImage([
    { id: 1, values: { Mn: 'microgrid-exchange', Md: 'SimHousehold', SN: `SIM-${o.index}`, Vr: '1.0' } },
    { id: 103, values: { W_SF: 0, Hz_SF: -2, V_SF: -1, A_SF: -2, WH_SF: 0 } },
    { id: 203, values: { W_SF: 0, Hz_SF: -2, V_SF: -1, A_SF: -2, TotWh_SF: 0 } },
  ]);
  const power = (t: number): { pv: number; load: number; grid: number } => {
    const h = (t % 86_400_000) / 3_600_000;
    const pv = Math.round(peak * pvFraction(h));
    const load = Math.round(loadW(shape, h));
    return { pv, load, grid: load - pv };
  };
  // Fractional Wh carried between steps so the integer counters never drift.
  const saved = o.stateFile ? readCounters(o.stateFile) : undefined;
  const c: Counters = saved ?? {
    at: Math.floor(o.clock.now() / STEP_MS) * STEP_MS,
    imp: o.startImportWh ?? 1_000_000 + o.index * 1000,
    exp: o.startExportWh ?? 500_000 + o.index * 1000,
    pvWh: o.startPvWh ?? 800_000 + o.index * 1000,
  };
  let cur = { pvW: 0, loadW: 0, gridW: 0 };
  let savedAt = 0;
  const save = (): void => {
    if (!o.stateFile) return;
    savedAt = Date.now();
    mkdirSync(dirname(o.stateFile), { recursive: true });
    writeFileSync(`${o.stateFile}.tmp`, JSON.stringify(c));
    renameSync(`${o.stateFile}.tmp`, o.stateFile);
  };

  const update = (): void => {
    const now = o.clock.now();
    for (; c.at + STEP_MS <= now; c.at += STEP_MS) {
      const p = power(c.at);
      c.imp += Math.max(0, p.grid) * STEP_H;
      c.exp += Math.max(0, -p.grid) * STEP_H;
      c.pvWh += p.pv * STEP_H;
    }
    if (Date.now() - savedAt >= 1000) save();
    const { pv, load, grid } = power(now);
    const imp = c.imp;
    const exp = c.exp;
    const pvWh = c.pvWh;
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
    state: () => ({ ...cur, importWh: Math.floor(c.imp), exportWh: Math.floor(c.exp), pvWh: Math.floor(c.pvWh) }),
    close: async () => {
      save();
      await server.close();
    },
  };
}

const STEP_MS = 10_000;
const STEP_H = STEP_MS / 3_600_000;

/** A household's lifetime counters (Wh, fractional) at market time `at` (ms, on the step grid). */
interface Counters {
  at: number;
  imp: number;
  exp: number;
  pvWh: number;
}

function readCounters(file: string): Counters | undefined {
  let c: Partial<Counters>;
  try {
    c = JSON.parse(readFileSync(file, 'utf8')) as Partial<Counters>;
  } catch {
    return undefined; // none yet (a first start); the file is replaced whole, never half-written
  }
  const ok = [c.at, c.imp, c.exp, c.pvWh].every((v) => typeof v === 'number' && Number.isFinite(v));
  return ok ? (c as Counters) : undefined;
}

export interface Simulators {
  households: SimulatedHousehold[];
  close(): Promise<void>;
}

/** Starts `count` simulated households on loopback, each on its own free port. */
export async function startSimulators(o: {
  clock: Clock;
  households: number;
  host?: string;
  firstIndex?: number;
}): Promise<Simulators> {
  const households: SimulatedHousehold[] = [];
  try {
    for (let i = 0; i < o.households; i++)
      households.push(
        await startSimulatedHousehold({
          clock: o.clock,
          index: (o.firstIndex ?? 0) + i,
          ...(o.host ? { host: o.host } : {}),
        }),
      );
  } catch (err) {
    await Promise.all(households.map((h) => h.close()));
    throw err;
  }
  return { households, close: async () => void (await Promise.all(households.map((h) => h.close()))) };
}
