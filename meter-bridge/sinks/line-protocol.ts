import { Point } from '@influxdata/influxdb-client';
import type { ReadingEvent } from '../../core/events.js';
import {
  INFLUX_SCHEMA,
  type InfluxFieldOf,
  type InfluxMeasurementName,
  type InfluxTagOf,
} from '../../core/influx-schema.js';
import { MicrogridError } from '../../core/errors.js';

export const MEASUREMENT = 'meter_reading' satisfies InfluxMeasurementName;

/**
 * One point as one InfluxDB line, for a measurement of core/influx-schema.ts
 * only: the types accept only its tags and fields, and a name it lacks (from
 * a cast or from JavaScript) is refused here. The line itself is the influx
 * client's `Point` (escaping, the `i` suffix, tags and fields sorted by key).
 * A value that is null, not finite, or not a safe integer where an integer is
 * due is left out — never written as 0 (Point would truncate 1.5 to 1i and
 * round integers beyond 2^53). Tags with an empty value are left out (line
 * protocol has no empty tag). Returns null when no field is left.
 */
export function influxLine<M extends InfluxMeasurementName>(
  measurement: M,
  tags: Partial<Record<InfluxTagOf<M>, string | null | undefined>>,
  fields: Partial<Record<InfluxFieldOf<M>, number | null | undefined>>,
  tsMs: number,
): string | null {
  const schema = INFLUX_SCHEMA[measurement] as (typeof INFLUX_SCHEMA)[InfluxMeasurementName] | undefined;
  if (!schema)
    throw new MicrogridError('INTERNAL', `influx measurement ${String(measurement)} is not in core/influx-schema.ts`, {
      field: 'measurement',
      value: String(measurement),
      expected: Object.keys(INFLUX_SCHEMA).join(', '),
    });
  const tagNames: readonly string[] = schema.tags;
  const fieldTypes = schema.fields as Record<string, { type: 'float' | 'integer' }>;
  for (const k of Object.keys(tags)) {
    if (!tagNames.includes(k))
      throw new MicrogridError('INTERNAL', `influx tag ${k} is not in the schema of ${measurement}`, {
        field: 'tag',
        value: k,
        expected: tagNames.join(', ') || 'no tags',
      });
  }
  const point = new Point(measurement);
  for (const k of tagNames) {
    const v = (tags as Record<string, string | null | undefined>)[k];
    if (typeof v === 'string' && v !== '') point.tag(k, v);
  }
  let fieldCount = 0;
  for (const [k, v] of Object.entries(fields) as [string, number | null | undefined][]) {
    const t = fieldTypes[k];
    if (!t)
      throw new MicrogridError('INTERNAL', `influx field ${k} is not in the schema of ${measurement}`, {
        field: 'field',
        value: k,
        expected: Object.keys(fieldTypes).join(', '),
      });
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (t.type === 'float') point.floatField(k, v);
    else if (Number.isSafeInteger(v)) point.intField(k, v);
    else continue;
    fieldCount++;
  }
  if (fieldCount === 0) return null;
  if (!Number.isSafeInteger(tsMs))
    throw new MicrogridError('INTERNAL', `influx point of ${measurement} has no valid timestamp`, {
      field: 'ts',
      value: tsMs,
      expected: 'epoch milliseconds',
    });
  // A number timestamp is written as given; the sink's write API declares its precision (ms).
  return point.timestamp(tsMs).toLineProtocol()!;
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
  const line = influxLine(
    'meter_reading',
    tags,
    {
      power_w: r.powerW,
      import_wh: r.importWh,
      export_wh: r.exportWh,
      voltage_v: r.voltageV,
      frequency_hz: r.frequencyHz,
    },
    Date.parse(r.ts),
  );
  // A line needs a field; a reading with every value "not implemented" is still a fact worth keeping.
  return line ?? influxLine('meter_reading', tags, { empty: 1 }, Date.parse(r.ts))!;
}
