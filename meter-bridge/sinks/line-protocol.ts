import type { ReadingEvent } from '../../core/events.js';
import { INFLUX_SCHEMA, type InfluxFieldOf, type InfluxMeasurementName, type InfluxTagOf } from '../../core/influx-schema.js';
import { MicrogridError } from '../../core/errors.js';

export const MEASUREMENT = 'meter_reading' satisfies InfluxMeasurementName;

// Line protocol: tag keys/values and field keys escape comma, equals sign and space; measurements comma and space.
const escKey = (s: string): string => s.replace(/[,= \\]/g, (c) => `\\${c}`);
const escMeasurement = (s: string): string => s.replace(/[, \\]/g, (c) => `\\${c}`);

/**
 * One point as one InfluxDB line, for a measurement of core/influx-schema.ts
 * only: the types accept only its tags and fields, and a name it lacks (from
 * a cast or from JavaScript) is refused here. Integer fields get the `i`
 * suffix; a value that is null, not finite, or not a safe integer where an
 * integer is due is left out — never written as 0. Tags with an empty value
 * are left out (line protocol has no empty tag). Tags go in the schema's
 * sorted order, as InfluxDB prefers. Returns null when no field is left.
 */
export function influxLine<M extends InfluxMeasurementName>(
  measurement: M,
  tags: Partial<Record<InfluxTagOf<M>, string | null | undefined>>,
  fields: Partial<Record<InfluxFieldOf<M>, number | null | undefined>>,
  tsMs: number,
): string | null {
  const schema = INFLUX_SCHEMA[measurement] as (typeof INFLUX_SCHEMA)[InfluxMeasurementName] | undefined;
  if (!schema) throw new MicrogridError('INTERNAL', `influx measurement ${String(measurement)} is not in core/influx-schema.ts`, { field: 'measurement', value: String(measurement), expected: Object.keys(INFLUX_SCHEMA).join(', ') });
  const tagNames: readonly string[] = schema.tags;
  const fieldTypes = schema.fields as Record<string, { type: 'float' | 'integer' }>;
  for (const k of Object.keys(tags)) {
    if (!tagNames.includes(k)) throw new MicrogridError('INTERNAL', `influx tag ${k} is not in the schema of ${measurement}`, { field: 'tag', value: k, expected: tagNames.join(', ') || 'no tags' });
  }
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields) as [string, number | null | undefined][]) {
    const t = fieldTypes[k];
    if (!t) throw new MicrogridError('INTERNAL', `influx field ${k} is not in the schema of ${measurement}`, { field: 'field', value: k, expected: Object.keys(fieldTypes).join(', ') });
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (t.type === 'integer') {
      if (Number.isSafeInteger(v)) out.push(`${escKey(k)}=${v}i`);
    } else out.push(`${escKey(k)}=${v}`);
  }
  if (out.length === 0) return null;
  if (!Number.isSafeInteger(tsMs)) throw new MicrogridError('INTERNAL', `influx point of ${measurement} has no valid timestamp`, { field: 'ts', value: tsMs, expected: 'epoch milliseconds' });
  const tagPart = tagNames
    .map((k) => [k, (tags as Record<string, string | null | undefined>)[k]] as const)
    .filter((e): e is readonly [string, string] => typeof e[1] === 'string' && e[1] !== '')
    .map(([k, v]) => `,${escKey(k)}=${escKey(v)}`)
    .join('');
  return `${escMeasurement(measurement)}${tagPart} ${out.join(',')} ${tsMs}`;
}

/**
 * One reading as one line of measurement `meter_reading`: tags `meter`,
 * `quality` and (when the bridge knows it) `role`; fields `power_w`,
 * `voltage_v`, `frequency_hz` (floats), `import_wh`, `export_wh` (integers),
 * millisecond timestamp. A value the device does not report (null) is left
 * out, never written as 0.
 */
export function toLine(r: ReadingEvent, role?: string): string {
  const tags = { meter: r.meterId, quality: r.quality, role };
  const line = influxLine('meter_reading', tags, { power_w: r.powerW, import_wh: r.importWh, export_wh: r.exportWh, voltage_v: r.voltageV, frequency_hz: r.frequencyHz }, Date.parse(r.ts));
  // A line needs a field; a reading with every value "not implemented" is still a fact worth keeping.
  return line ?? influxLine('meter_reading', tags, { empty: 1 }, Date.parse(r.ts))!;
}
