import type { ReadingEvent } from '../../core/events.js';

export const MEASUREMENT = 'meter_reading';

const escTag = (s: string): string => s.replace(/[,= \\]/g, (c) => `\\${c}`);

/**
 * One reading as one InfluxDB line: measurement `meter_reading`, tags `meter`
 * and `quality`, fields `power_w`, `voltage_v`, `frequency_hz` (floats),
 * `import_wh`, `export_wh` (integers), millisecond timestamp. A value the
 * device does not report (null) is left out, never written as 0.
 */
export function toLine(r: ReadingEvent): string {
  const fields: string[] = [];
  const float = (k: string, v: number | null): void => {
    if (v !== null && Number.isFinite(v)) fields.push(`${k}=${v}`);
  };
  const int = (k: string, v: number | null): void => {
    if (v !== null && Number.isSafeInteger(v)) fields.push(`${k}=${v}i`);
  };
  float('power_w', r.powerW);
  int('import_wh', r.importWh);
  int('export_wh', r.exportWh);
  float('voltage_v', r.voltageV);
  float('frequency_hz', r.frequencyHz);
  // A line needs a field; a reading with every value "not implemented" is still a fact worth keeping.
  if (fields.length === 0) fields.push('empty=1i');
  return `${MEASUREMENT},meter=${escTag(r.meterId)},quality=${r.quality} ${fields.join(',')} ${Date.parse(r.ts)}`;
}
