import type { Profile, ReadingField } from '../profiles/load.js';
import { encodeValue } from '../registers/decode.js';
import { TYPE_WORDS } from '../registers/types.js';
import { ModbusException, startRegisterServer, type RegisterServer } from './register-server.js';

export interface ProfileMeter extends RegisterServer {
  /** Sets a value in the meter's units (W, Wh, V, Hz): encoded with the profile's type, word order and scale. */
  set(field: ReadingField, value: number | null): void;
}

/**
 * A non-SunSpec meter as its register-map profile describes it (an SDM630,
 * an EM24, …). Registers outside the profile's points, and the points listed
 * in `unsupported`, answer exception 2 — like a meter variant that lacks an
 * optional value.
 */
export async function startProfileMeter(
  profile: Profile,
  values: Partial<Record<ReadingField, number | null>>,
  opts: { unsupported?: ReadingField[]; host?: string } = {},
): Promise<ProfileMeter> {
  const regs = new Map<string, number>(); // `${fc}:${address}` → word
  const unsupported = new Set(opts.unsupported ?? []);
  const set = (field: ReadingField, value: number | null): void => {
    const p = profile.points.find((x) => x.name === field);
    if (!p) throw new RangeError(`profile ${profile.name} has no ${field}`);
    const raw = value === null ? null : p.type === 'float32' ? value / p.scale : Math.round(value / p.scale);
    encodeValue(p.type, raw, p.wordOrder).forEach((w, i) => regs.set(`${p.fc}:${p.register + i}`, w));
  };
  for (const p of profile.points) set(p.name, values[p.name] ?? 0);
  const blocked = new Set<string>();
  for (const p of profile.points)
    if (unsupported.has(p.name)) for (let i = 0; i < TYPE_WORDS[p.type]!; i++) blocked.add(`${p.fc}:${p.register + i}`);
  const server = await startRegisterServer(
    (_unit, fc, addr, count) => {
      const out: number[] = [];
      for (let a = addr; a < addr + count; a++) {
        const k = `${fc}:${a}`;
        if (blocked.has(k)) throw new ModbusException(2);
        // Holes between points read as 0, as most meters do.
        out.push(regs.get(k) ?? 0);
      }
      return out;
    },
    opts.host ? { host: opts.host } : {},
  );
  return { ...server, set };
}
