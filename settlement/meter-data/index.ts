export { validateMeterSeries } from './validate-series.js';
export {
  DEFAULT_METER_DATA_RULES,
  DEFAULT_RATED_POWER_W,
  ESTIMATION_METHOD,
  VEE_CODES,
  maxGapFor,
  resolutionOf,
} from './rules.js';
export { METER_DATA_STATUSES } from './types.js';
export type {
  MeterDataReason,
  MeterDataRules,
  MeterDataStatus,
  MeterIntervalEnergy,
  SeriesReading,
  ValidateMeterSeriesInput,
} from './types.js';
export { readingVerdicts, type ReadingVerdict } from './reading-verdicts.js';
