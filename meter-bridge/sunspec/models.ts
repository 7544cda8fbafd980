import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * SunSpec model definitions, read as data from the official JSON (copied into
 * ./models with its Apache-2.0 LICENSE). Offsets are computed from the point
 * sizes in the JSON, never hard-coded: the same code reads model 103 from any
 * vendor, and a model 1 of length 65 (no Pad) as well as 66.
 */

export interface SunSpecPoint {
  name: string;
  type: string;
  /** Registers, from the JSON `size`. */
  size: number;
  /** Offset from the model's first register (the ID), so ID = 0, L = 1. */
  offset: number;
  /** Name of the scale-factor point, or a fixed integer exponent. */
  sf: string | number | null;
  units: string | null;
  mandatory: boolean;
}

export interface SunSpecModel {
  id: number;
  name: string;
  /** Length in registers after ID and L, per the JSON. */
  length: number;
  points: readonly SunSpecPoint[];
  byName: ReadonlyMap<string, SunSpecPoint>;
}

interface JsonPoint {
  name: string;
  type: string;
  size?: number;
  sf?: string | number;
  units?: string;
  mandatory?: string;
}

const MODELS_DIR = fileURLToPath(new URL('./models/', import.meta.url));

export function parseModel(json: unknown): SunSpecModel {
  const root = json as { id?: number; group?: { name?: string; points?: JsonPoint[] } };
  const group = root.group;
  if (typeof root.id !== 'number' || !group || !Array.isArray(group.points))
    throw new TypeError('SunSpec model JSON must have id and group.points');
  const points: SunSpecPoint[] = [];
  let offset = 0;
  for (const p of group.points) {
    const size = p.size ?? 1;
    points.push({
      name: p.name,
      type: p.type,
      size,
      offset,
      sf: p.sf ?? null,
      units: p.units ?? null,
      mandatory: p.mandatory === 'M',
    });
    offset += size;
  }
  return {
    id: root.id,
    name: group.name ?? `model_${root.id}`,
    length: offset - 2,
    points,
    byName: new Map(points.map((p) => [p.name, p])),
  };
}

let cache: Map<number, SunSpecModel> | undefined;

/** Every model shipped in ./models, by id. */
export function sunSpecModels(): ReadonlyMap<number, SunSpecModel> {
  if (cache) return cache;
  const m = new Map<number, SunSpecModel>();
  for (const f of readdirSync(MODELS_DIR)) {
    const match = /^model_(\d+)\.json$/.exec(f);
    if (!match) continue;
    const model = parseModel(JSON.parse(readFileSync(MODELS_DIR + f, 'utf8')));
    m.set(model.id, model);
  }
  cache = m;
  return m;
}

export function sunSpecModel(id: number): SunSpecModel | undefined {
  return sunSpecModels().get(id);
}

export const INVERTER_MODELS = [101, 102, 103, 111, 112, 113] as const;
export const METER_MODELS = [201, 202, 203, 204, 211, 212, 213, 214] as const;
export const DER_MODELS = [701] as const;
