import type { MeterDataReason, MeterDataRules, SeriesReading } from './types.js';
import { DEFAULT_METER_DATA_RULES } from './rules.js';
import { seriesTrust } from './series-trust.js';

export interface ReadingVerdict {
  /** trusted: a baseline the energies are computed from; failed: an outlier the rules excluded. */
  status: 'trusted' | 'failed';
  reasons: MeterDataReason[];
}

/** Each usable reading's verdict under the published rules (the same trust validateMeterSeries computes), by ts. */
export function readingVerdicts(input: {
  readings: readonly SeriesReading[];
  ratedPowerW: number;
  rules?: Partial<MeterDataRules>;
}): Map<number, ReadingVerdict> {
  const trust = seriesTrust(input.readings, input.ratedPowerW, { ...DEFAULT_METER_DATA_RULES, ...input.rules });
  const out = new Map<number, ReadingVerdict>();
  for (const t of trust.trusted) out.set(t.ts, { status: 'trusted', reasons: [] });
  for (const o of trust.outliers) out.set(o.ts, { status: 'failed', reasons: [{ code: o.code, message: o.message }] });
  return out;
}
