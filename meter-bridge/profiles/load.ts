import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { MicrogridError } from '../../core/errors.js';
import { PROFILE_TYPES, TYPE_WORDS, WORD_ORDERS, type ProfileType, type WordOrder } from '../registers/types.js';

/**
 * Register-map profiles for meters that do not speak SunSpec, as data files
 * (JSON or YAML) in the evcc template spirit: one entry per value, with its
 * register, function code, type, word order, scale and unit. A wrong profile
 * fails at start with the file and the entry, never at 3 a.m. with a wrong
 * number.
 */

export const READING_FIELDS = ['powerW', 'importWh', 'exportWh', 'voltageV', 'frequencyHz'] as const;
export type ReadingField = (typeof READING_FIELDS)[number];

export interface ProfilePoint {
  name: ReadingField;
  register: number;
  fc: 3 | 4;
  type: ProfileType;
  wordOrder: WordOrder;
  scale: number;
  unit: string;
  optional: boolean;
}

export interface Profile {
  name: string;
  file: string;
  maxGap: number;
  points: ProfilePoint[];
  /**
   * The rated power of the device this profile describes, W, when the map is
   * for one product with one rating (an inverter's profile). A meter's own
   * maximum current is not a rating of the connection it measures: the
   * built-in meter profiles leave it out.
   */
  ratedPowerW?: number;
}

const BUILTIN_DIR = fileURLToPath(new URL('./', import.meta.url));
export const BUILTIN_PROFILES = ['sdm630', 'sdm120', 'em24'] as const;

const UNITS: Record<ReadingField, string> = { powerW: 'W', importWh: 'Wh', exportWh: 'Wh', voltageV: 'V', frequencyHz: 'Hz' };

/** Loads a built-in profile by name (`sdm630`) or a profile file by path. */
export function loadProfile(nameOrPath: string): Profile {
  const builtin = `${BUILTIN_DIR}${nameOrPath}.json`;
  const file = (BUILTIN_PROFILES as readonly string[]).includes(nameOrPath) ? builtin : nameOrPath;
  if (!existsSync(file)) {
    throw new MicrogridError('PROFILE_INVALID', 'profile not found', { field: 'profile', value: nameOrPath, expected: `one of ${BUILTIN_PROFILES.join(', ')} or the path of a .json/.yaml profile file` });
  }
  const text = readFileSync(file, 'utf8');
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (cause) {
    throw new MicrogridError('PROFILE_INVALID', `${file}: not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'} (${(cause as Error).message})`, { cause });
  }
  return parseProfile(data, file);
}

export function parseProfile(data: unknown, file: string): Profile {
  const bad = (field: string, value: unknown, expected: string): MicrogridError =>
    new MicrogridError('PROFILE_INVALID', 'invalid profile entry', { field: `${file}: ${field}`, value, expected });
  if (typeof data !== 'object' || data === null) throw bad('(root)', data, 'an object with name and points');
  const d = data as Record<string, unknown>;
  if (typeof d.name !== 'string' || d.name.length === 0) throw bad('name', d.name, 'a non-empty string');
  if (!Array.isArray(d.points) || d.points.length === 0) throw bad('points', d.points, 'a non-empty list of points');
  const maxGap = d.maxGap === undefined ? 16 : d.maxGap;
  if (typeof maxGap !== 'number' || !Number.isInteger(maxGap) || maxGap < 0 || maxGap > 124) throw bad('maxGap', d.maxGap, 'an integer from 0 to 124');
  const points: ProfilePoint[] = [];
  d.points.forEach((raw: unknown, i: number) => {
    const at = `points[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw bad(at, raw, 'an object');
    const p = raw as Record<string, unknown>;
    const known = new Set(['name', 'register', 'fc', 'type', 'wordOrder', 'scale', 'unit', 'optional']);
    for (const k of Object.keys(p)) if (!known.has(k)) throw bad(`${at}.${k}`, p[k], `no such key; allowed: ${[...known].join(', ')}`);
    if (!(READING_FIELDS as readonly unknown[]).includes(p.name)) throw bad(`${at}.name`, p.name, `one of ${READING_FIELDS.join(', ')}`);
    if (typeof p.register !== 'number' || !Number.isInteger(p.register) || p.register < 0 || p.register > 0xffff) throw bad(`${at}.register`, p.register, 'a 0-based register address from 0 to 65535');
    if (p.fc !== 3 && p.fc !== 4) throw bad(`${at}.fc`, p.fc, 'function code 3 (holding) or 4 (input)');
    if (!(PROFILE_TYPES as readonly unknown[]).includes(p.type)) throw bad(`${at}.type`, p.type, `one of ${PROFILE_TYPES.join(', ')}`);
    const wordOrder = p.wordOrder ?? 'high-first';
    if (!(WORD_ORDERS as readonly unknown[]).includes(wordOrder)) throw bad(`${at}.wordOrder`, p.wordOrder, `one of ${WORD_ORDERS.join(', ')}`);
    const scale = p.scale ?? 1;
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale === 0) throw bad(`${at}.scale`, p.scale, 'a non-zero number (e.g. 0.1 for a value sent ×10, 1000 for kWh → Wh)');
    const name = p.name as ReadingField;
    const unit = p.unit ?? UNITS[name];
    if (unit !== UNITS[name]) throw bad(`${at}.unit`, p.unit, `${UNITS[name]} (the unit of ${name} after scaling)`);
    if (p.optional !== undefined && typeof p.optional !== 'boolean') throw bad(`${at}.optional`, p.optional, 'true or false');
    if (points.some((q) => q.name === name)) throw bad(`${at}.name`, name, 'each reading field at most once');
    points.push({ name, register: p.register, fc: p.fc, type: p.type as ProfileType, wordOrder: wordOrder as WordOrder, scale, unit, optional: p.optional === true });
  });
  // Overlap check per function code: two values sharing a register is always a typo in the map.
  for (let i = 0; i < points.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = points[i]!;
      const b = points[j]!;
      if (a.fc !== b.fc) continue;
      const aEnd = a.register + TYPE_WORDS[a.type]! - 1;
      const bEnd = b.register + TYPE_WORDS[b.type]! - 1;
      if (a.register <= bEnd && b.register <= aEnd) {
        throw bad(`points[${i}].register`, a.register, `registers not overlapping points[${j}] (${b.name} at ${b.register}..${bEnd}, fc ${b.fc})`);
      }
    }
  }
  if (!points.some((p) => p.name === 'powerW' || p.name === 'importWh' || p.name === 'exportWh')) throw bad('points', points.map((p) => p.name), 'at least one of powerW, importWh, exportWh');
  if (d.ratedPowerW !== undefined && (typeof d.ratedPowerW !== 'number' || !Number.isSafeInteger(d.ratedPowerW) || d.ratedPowerW <= 0 || d.ratedPowerW > 10_000_000)) {
    throw bad('ratedPowerW', d.ratedPowerW, 'an integer number of W from 1 to 10,000,000');
  }
  return { name: d.name, file, maxGap, points, ...(d.ratedPowerW !== undefined ? { ratedPowerW: d.ratedPowerW } : {}) };
}
