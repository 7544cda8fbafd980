import { MicrogridError } from '../../core/errors.js';
import {
  floorWh,
  roundOrNull,
  type DeviceReader,
  type Measurement,
  type ReportedRatedPower,
} from '../devices/measurement.js';
import type { RegisterGroup } from '../registers/coalesce.js';
import { PlanReader, type RegisterSnapshot } from '../registers/read-plan.js';
import type { ModbusBus } from '../transport/types.js';
import { decodePoint, pointSpan, type PointValue } from './decode.js';
import { discoverSunSpec, type DiscoveredModel, type DiscoveryReport } from './discover.js';
import { DER_MODELS, INVERTER_MODELS, METER_MODELS, sunSpecModel, type SunSpecModel } from './models.js';

type Family = 'meter' | 'inverter' | 'der';

/** The points each family contributes to a reading (names from the official JSON). */
const FAMILY_POINTS: Record<Family, readonly string[]> = {
  meter: ['W', 'Hz', 'PhV', 'PhVphA', 'TotWhImp', 'TotWhExp'],
  inverter: ['W', 'Hz', 'PhVphA', 'WH', 'St'],
  der: ['W', 'Hz', 'LNV', 'TotWhInj', 'TotWhAbs'],
};

const SLEEP_STATES = new Set([1, 2, 8]);

function familyOf(id: number): Family | null {
  if ((METER_MODELS as readonly number[]).includes(id)) return 'meter';
  if ((INVERTER_MODELS as readonly number[]).includes(id)) return 'inverter';
  if ((DER_MODELS as readonly number[]).includes(id)) return 'der';
  return null;
}

interface Source {
  meterId: string;
  family: Family;
  found: DiscoveredModel;
  def: SunSpecModel;
}

export interface SunSpecReaderOptions {
  deviceId: string;
  bus: ModbusBus;
  unitId: number;
  /**
   * Which meter id each model feeds: `grid` takes the meter model (20x/21x),
   * `pv` the inverter model (10x/11x) or DER 701. Without either, the device
   * id names the meter model if there is one, else the inverter or DER model.
   */
  meters?: { grid?: string; pv?: string };
}

/**
 * Reads a SunSpec device: discovery once (retried until it succeeds), then per
 * cycle only the points a reading needs, with their scale factors, coalesced
 * into as few requests as possible: an inverter plus a meter model is two.
 */
export class SunSpecReader implements DeviceReader {
  readonly deviceId: string;
  readonly #opts: SunSpecReaderOptions;
  #report: DiscoveryReport | null = null;
  #sources: Source[] = [];
  #plan: PlanReader | null = null;
  #rated: ReportedRatedPower[] = [];

  constructor(opts: SunSpecReaderOptions) {
    this.deviceId = opts.deviceId;
    this.#opts = opts;
  }

  get requestsPerRead(): number {
    return this.#plan?.requests ?? 0;
  }

  get ready(): boolean {
    return this.#plan !== null;
  }

  async prepare(): Promise<void> {
    await this.discover();
  }

  get discovery(): DiscoveryReport | null {
    return this.#report;
  }

  describe(): Record<string, unknown> {
    return {
      deviceId: this.deviceId,
      kind: 'sunspec',
      bus: this.#opts.bus.key,
      unitId: this.#opts.unitId,
      discovery: this.#report,
      meters: this.#sources.map((s) => ({ meterId: s.meterId, model: s.found.id, address: s.found.address })),
      requestsPerRead: this.requestsPerRead,
      ratedPowers: this.#rated,
    };
  }

  ratedPowers(): ReportedRatedPower[] {
    return this.#rated;
  }

  async discover(): Promise<DiscoveryReport> {
    const report = await discoverSunSpec(this.#opts.bus, this.#opts.unitId);
    const pick = (f: Family[]): DiscoveredModel | undefined =>
      report.models.find((m) => m.known && f.includes(familyOf(m.id) as Family));
    const meterModel = pick(['meter']);
    const pvModel = pick(['inverter']) ?? pick(['der']);
    const sources: Source[] = [];
    const add = (meterId: string, found: DiscoveredModel | undefined): void => {
      if (!found) return;
      sources.push({ meterId, family: familyOf(found.id)!, found, def: sunSpecModel(found.id)! });
    };
    const m = this.#opts.meters;
    if (m?.grid !== undefined || m?.pv !== undefined) {
      if (m.grid !== undefined) {
        if (!meterModel) throw this.#missing('a meter model (201–204, 211–214)', report);
        add(m.grid, meterModel);
      }
      if (m.pv !== undefined) {
        if (!pvModel) throw this.#missing('an inverter model (101–103, 111–113) or DER model 701', report);
        add(m.pv, pvModel);
      }
    } else {
      const only = meterModel ?? pvModel;
      if (!only) throw this.#missing('an inverter, meter or DER model', report);
      add(this.deviceId, only);
    }
    const groups: RegisterGroup[] = [];
    for (const s of sources) {
      for (const name of FAMILY_POINTS[s.family]) {
        const p = s.def.byName.get(name);
        if (!p || p.offset + p.size > s.found.length + 2) continue;
        const sf = typeof p.sf === 'string' ? s.def.byName.get(p.sf) : undefined;
        const from = Math.min(p.offset, sf?.offset ?? p.offset);
        const to = Math.max(p.offset + p.size - 1, sf ? sf.offset : 0);
        groups.push({ key: `${s.found.id}.${name}`, fc: 3, from: s.found.address + from, to: s.found.address + to });
      }
    }
    const pv = sources.find((s) => s.family !== 'meter');
    const rated = pv ? await this.#nameplate(report, pv.meterId) : null;
    this.#plan = new PlanReader(this.#opts.bus, this.#opts.unitId, groups, []);
    this.#sources = sources;
    this.#rated = rated ? [rated] : [];
    this.#report = report;
    return report;
  }

  /**
   * The inverter's rated output from nameplate model 120: WRtg × 10^WRtg_SF
   * (W), read once at discovery. It is the inverter's, so it rates the pv
   * meter only (a grid meter also carries the household's load). A model 120
   * that is missing, unreadable, or says "not implemented" (WRtg 0xFFFF,
   * WRtg_SF 0x8000) or 0 gives nothing: the rating then comes from the
   * role's default, never from a sentinel.
   */
  async #nameplate(report: DiscoveryReport, meterId: string): Promise<ReportedRatedPower | null> {
    const found = report.models.find((m) => m.id === 120);
    const def = sunSpecModel(120);
    if (!found || !def) return null;
    const span = pointSpan(def, ['WRtg'], found.length);
    if (!span) return null;
    let regs: number[];
    try {
      regs = await this.#opts.bus.read({
        unitId: this.#opts.unitId,
        fc: 3,
        address: found.address + span.from,
        count: span.to - span.from + 1,
      });
    } catch (err) {
      // A nameplate the device will not serve is a missing nameplate, not a device that cannot be read.
      if (err instanceof MicrogridError && err.code === 'MODBUS_EXCEPTION') return null;
      throw err;
    }
    const p = def.byName.get('WRtg')!;
    const sfp = def.byName.get('WRtg_SF')!;
    const w = decodePoint(def, p, regs, span.from, found.length);
    const sf = decodePoint(def, sfp, regs, span.from, found.length);
    if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0) return null;
    const ratedPowerW = Math.round(w);
    const raw = regs[p.offset - span.from]!;
    return { meterId, ratedPowerW, from: `SunSpec model 120 WRtg ${raw} × 10^${String(sf)} W` };
  }

  #missing(what: string, report: DiscoveryReport): MicrogridError {
    return new MicrogridError('SUNSPEC_NOT_FOUND', `device has no ${what}`, {
      field: `bridge.devices.${this.deviceId}`,
      value: report.models.map((x) => x.id),
      expected: what,
    });
  }

  async read(): Promise<Measurement[]> {
    if (!this.#plan) await this.discover();
    const snap = await this.#plan!.read();
    return this.#sources.map((s) => this.#measure(s, snap));
  }

  #measure(s: Source, snap: RegisterSnapshot): Measurement {
    const { def, found } = s;
    // The block covering the model's points; decodePoint addresses it relative to the model start.
    const regs =
      snap.get(3, found.address, Math.min(found.length + 2, def.length + 2)) ?? this.#assemble(snap, found, def);
    const v = (name: string): PointValue => {
      const p = def.byName.get(name);
      return p ? decodePoint(def, p, regs, 0, found.length) : null;
    };
    const num = (x: PointValue): number | null =>
      typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : null;
    const wrap = (counter: string): number | null => {
      const p = def.byName.get(counter);
      if (!p || p.type !== 'acc32' || typeof p.sf !== 'string') return p?.type === 'acc32' ? 2 ** 32 : null;
      const sfp = def.byName.get(p.sf);
      const sf = sfp ? num(decodePoint(def, sfp, regs, 0, found.length)) : null;
      return sf === null ? null : 2 ** 32 * 10 ** sf;
    };
    if (s.family === 'meter') {
      return {
        meterId: s.meterId,
        powerW: roundOrNull(num(v('W'))),
        importWh: floorWh(num(v('TotWhImp'))),
        exportWh: floorWh(num(v('TotWhExp'))),
        voltageV: roundOrNull(num(v('PhV')) ?? num(v('PhVphA')), 1),
        frequencyHz: roundOrNull(num(v('Hz')), 3),
        counterWrapWh: wrap('TotWhImp'),
      };
    }
    if (s.family === 'inverter') {
      const w = num(v('W'));
      const st = num(v('St'));
      // Operating state 1 OFF, 2 SLEEPING, 8 STANDBY (model 10x/11x enum); power and energy both "not implemented" is a
      // night sentinel.
      const asleep = (st !== null && SLEEP_STATES.has(st)) || (w === null && num(v('WH')) === null);
      return {
        ...(asleep ? { asleep: true } : {}),
        meterId: s.meterId,
        // An inverter produces: at the meter's sign convention that is export, negative power.
        powerW: w === null ? null : roundOrNull(w === 0 ? 0 : -w),
        importWh: null,
        exportWh: floorWh(num(v('WH'))),
        voltageV: roundOrNull(num(v('PhVphA')), 1),
        frequencyHz: roundOrNull(num(v('Hz')), 3),
        counterWrapWh: wrap('WH'),
      };
    }
    const w = num(v('W'));
    return {
      meterId: s.meterId,
      powerW: w === null ? null : roundOrNull(w === 0 ? 0 : -w),
      importWh: floorWh(num(v('TotWhAbs'))),
      exportWh: floorWh(num(v('TotWhInj'))),
      voltageV: roundOrNull(num(v('LNV')), 1),
      frequencyHz: roundOrNull(num(v('Hz')), 3),
      counterWrapWh: null,
    };
  }

  /** Builds a model-relative register array from the pieces read (unread registers are 0 and never decoded). */
  #assemble(snap: RegisterSnapshot, found: DiscoveredModel, def: SunSpecModel): number[] {
    const regs = new Array<number>(def.length + 2).fill(0);
    for (let i = 0; i < regs.length; i++) {
      const r = snap.get(3, found.address + i, 1);
      if (r) regs[i] = r[0]!;
    }
    return regs;
  }
}
