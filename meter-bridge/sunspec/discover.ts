import { MicrogridError, isMicrogridError } from '../../core/errors.js';
import { decodeString } from '../registers/decode.js';
import type { ModbusBus } from '../transport/types.js';
import { sunSpecModel } from './models.js';

/** SunSpec base addresses, in the order devices use them. */
export const SUNSPEC_BASES = [40000, 50000, 0] as const;
const SUNS = [0x5375, 0x6e53]; // "SunS"
const END_ID = 0xffff;
const MAX_MODELS = 64;

export interface DiscoveredModel {
  id: number;
  /** Absolute register of the model's ID point. */
  address: number;
  /** L as the device reports it (registers after ID and L). */
  length: number;
  /** Whether this bridge has the model's JSON definition. */
  known: boolean;
}

export interface DiscoveryReport {
  unitId: number;
  base: number;
  models: DiscoveredModel[];
  /** Model ids in the chain this bridge has no definition for: skipped, listed here. */
  unknown: number[];
  common: { manufacturer: string | null; model: string | null; version: string | null; serial: string | null } | null;
}

/**
 * Finds the SunSpec map of one unit and walks its model chain by id and
 * length. Addresses are never assumed: each model starts where the previous
 * one's L says it ends, so a model 1 of length 65 is followed correctly.
 */
export async function discoverSunSpec(bus: ModbusBus, unitId: number): Promise<DiscoveryReport> {
  let base: number | undefined;
  const tried: string[] = [];
  for (const b of SUNSPEC_BASES) {
    try {
      const r = await bus.read({ unitId, fc: 3, address: b, count: 2 });
      if (r[0] === SUNS[0] && r[1] === SUNS[1]) {
        base = b;
        break;
      }
      tried.push(`${b}: 0x${(r[0] ?? 0).toString(16)}${(r[1] ?? 0).toString(16)}`);
    } catch (err) {
      // Exception 2 (no such register) is the normal answer of a device without a map at that base.
      if (!isMicrogridError(err, 'MODBUS_EXCEPTION')) throw err;
      tried.push(`${b}: exception ${String(err.value)}`);
    }
  }
  if (base === undefined) {
    throw new MicrogridError('SUNSPEC_NOT_FOUND', 'no SunSpec marker found', {
      field: `${bus.key} unit ${unitId}`,
      value: tried.join(', '),
      expected: '"SunS" at register 40000, 50000 or 0',
    });
  }
  const models: DiscoveredModel[] = [];
  let addr = base + 2;
  for (let i = 0; i < MAX_MODELS; i++) {
    const [id, len] = await bus.read({ unitId, fc: 3, address: addr, count: 2 });
    if (id === undefined || len === undefined || id === END_ID || id === 0) break;
    models.push({ id, address: addr, length: len, known: sunSpecModel(id) !== undefined });
    addr += 2 + len;
    if (addr > 0xffff) break;
  }
  let common: DiscoveryReport['common'] = null;
  const m1 = models.find((m) => m.id === 1);
  const def = sunSpecModel(1);
  if (m1 && def) {
    const count = Math.min(m1.length + 2, 125);
    const regs = await bus.read({ unitId, fc: 3, address: m1.address, count });
    const str = (name: string): string | null => {
      const p = def.byName.get(name);
      if (!p || p.offset + p.size > regs.length) return null;
      return decodeString(regs.slice(p.offset, p.offset + p.size));
    };
    common = { manufacturer: str('Mn'), model: str('Md'), version: str('Vr'), serial: str('SN') };
  }
  return { unitId, base, models, unknown: models.filter((m) => !m.known).map((m) => m.id), common };
}
