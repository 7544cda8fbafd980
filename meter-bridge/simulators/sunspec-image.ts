import { encodeString, encodeValue } from '../registers/decode.js';
import { sunSpecModel, type SunSpecModel } from '../sunspec/models.js';

export interface ImageModel {
  id: number;
  /** Override L (e.g. 65 for a model 1 without its Pad, as some vendors ship). */
  length?: number;
  values?: Record<string, number | bigint | string | null>;
}

/**
 * A SunSpec register map in memory: "SunS", the model chain laid out from the
 * official JSON, the end marker. Simulators serve it; `set` changes a point
 * (raw, unscaled: set the scale-factor point too).
 */
export class SunSpecImage {
  readonly base: number;
  readonly regs: number[];
  readonly #addr = new Map<number, { address: number; def: SunSpecModel; length: number }>();

  constructor(models: readonly ImageModel[], base = 40000) {
    this.base = base;
    const regs: number[] = [0x5375, 0x6e53];
    for (const m of models) {
      const def = sunSpecModel(m.id);
      if (!def) {
        // A model the bridge does not know (vendor-specific): served as opaque registers.
        if (m.length === undefined)
          throw new RangeError(`no SunSpec definition for model ${m.id}; give its length to serve it opaque`);
        regs.push(m.id, m.length, ...new Array<number>(m.length).fill(0x1234));
        continue;
      }
      const length = m.length ?? def.length;
      const address = base + regs.length;
      this.#addr.set(m.id, { address, def, length });
      regs.push(m.id, length);
      // Unset points read as "not implemented", as a real device's unused points do.
      for (const p of def.points.slice(2)) {
        if (p.offset + p.size > length + 2) break;
        regs.push(
          ...(p.type === 'string'
            ? new Array<number>(p.size).fill(0)
            : p.type === 'pad'
              ? [0x8000]
              : encodeValue(p.type, null)),
        );
      }
      while (regs.length < address - base + 2 + length) regs.push(0);
    }
    regs.push(0xffff, 0);
    this.regs = regs;
    for (const m of models) for (const [k, v] of Object.entries(m.values ?? {})) this.set(m.id, k, v);
  }

  addressOf(modelId: number, point: string): number {
    const m = this.#addr.get(modelId);
    const p = m?.def.byName.get(point);
    if (!m || !p) throw new RangeError(`model ${modelId} has no point ${point}`);
    return m.address + p.offset;
  }

  set(modelId: number, point: string, value: number | bigint | string | null): void {
    const m = this.#addr.get(modelId);
    const p = m?.def.byName.get(point);
    if (!m || !p) throw new RangeError(`model ${modelId} has no point ${point}`);
    const words =
      p.type === 'string'
        ? encodeString(String(value ?? ''), p.size)
        : encodeValue(p.type, value as number | bigint | null);
    const at = m.address + p.offset - this.base;
    for (let i = 0; i < words.length; i++) this.regs[at + i] = words[i]!;
  }

  /** Registers [address, address+count), or undefined when any is outside the map (exception 2). */
  read(address: number, count: number): number[] | undefined {
    const from = address - this.base;
    if (from < 0 || from + count > this.regs.length) return undefined;
    return this.regs.slice(from, from + count);
  }
}
