import { floorWh, roundOrNull, type DeviceReader, type Measurement, type ReportedRatedPower } from '../devices/measurement.js';
import { decodeValue } from '../registers/decode.js';
import { PlanReader } from '../registers/read-plan.js';
import { TYPE_WORDS } from '../registers/types.js';
import type { ModbusBus } from '../transport/types.js';
import type { Profile, ReadingField } from './load.js';

export interface ProfileReaderOptions {
  deviceId: string;
  meterId?: string;
  bus: ModbusBus;
  unitId: number;
  profile: Profile;
}

/** Reads a non-SunSpec meter through its register-map profile, all points coalesced. */
export class ProfileReader implements DeviceReader {
  readonly deviceId: string;
  readonly #opts: ProfileReaderOptions;
  readonly #plan: PlanReader;

  constructor(opts: ProfileReaderOptions) {
    this.deviceId = opts.deviceId;
    this.#opts = opts;
    const groups = opts.profile.points.map((p) => ({ key: p.name, fc: p.fc, from: p.register, to: p.register + TYPE_WORDS[p.type]! - 1 }));
    this.#plan = new PlanReader(opts.bus, opts.unitId, groups, opts.profile.points.filter((p) => p.optional).map((p) => p.name), opts.profile.maxGap);
  }

  #ready = false;

  get ready(): boolean {
    return this.#ready;
  }

  /** A profile needs no discovery: setting up is opening the connection. */
  async prepare(): Promise<void> {
    await this.#opts.bus.connect();
    this.#ready = true;
  }

  get requestsPerRead(): number {
    return this.#plan.requests;
  }

  describe(): Record<string, unknown> {
    return { deviceId: this.deviceId, kind: 'profile', profile: this.#opts.profile.name, bus: this.#opts.bus.key, unitId: this.#opts.unitId, requestsPerRead: this.requestsPerRead, unsupported: [...this.#plan.unsupported] };
  }

  ratedPowers(): ReportedRatedPower[] {
    const w = this.#opts.profile.ratedPowerW;
    return w === undefined ? [] : [{ meterId: this.#opts.meterId ?? this.deviceId, ratedPowerW: w, from: `profile ${this.#opts.profile.name} ratedPowerW` }];
  }

  async read(): Promise<Measurement[]> {
    const snap = await this.#plan.read();
    const values: Partial<Record<ReadingField, number | null>> = {};
    let wrap: number | null = null;
    for (const p of this.#opts.profile.points) {
      const words = snap.get(p.fc, p.register, TYPE_WORDS[p.type]!);
      const raw = words ? decodeValue(p.type, words, p.wordOrder) : null;
      values[p.name] = raw === null ? null : Number(raw) * p.scale;
      if (p.name === 'importWh' && (p.type === 'uint32' || p.type === 'int32')) wrap = (p.type === 'uint32' ? 2 ** 32 : 2 ** 31) * p.scale;
    }
    return [
      {
        meterId: this.#opts.meterId ?? this.deviceId,
        powerW: roundOrNull(values.powerW ?? null),
        importWh: floorWh(values.importWh ?? null),
        exportWh: floorWh(values.exportWh ?? null),
        voltageV: roundOrNull(values.voltageV ?? null, 1),
        frequencyHz: roundOrNull(values.frequencyHz ?? null, 3),
        counterWrapWh: wrap,
      },
    ];
  }
}
