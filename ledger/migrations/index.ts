import { sql as initial } from './0001_initial.js';
import { sql as settlementCredits } from './0003_settlement_credits.js';
import { sql as meterDataStatus } from './0004_meter_data_status.js';
import { sql as ratedPowerSource } from './0012_rated_power_source.js';
import { sql as orderRejections } from './0013_order_rejections.js';
import { sql as readingsCutoff } from './0014_readings_cutoff.js';
import { sql as ordersSeqIndex } from './0015_orders_seq_index.js';
import { sql as clearingResultsRowid } from './0016_clearing_results_rowid.js';

/**
 * Migrations by id, applied in id order, each once, each in its own
 * transaction together with the row that records it. Ids are names, not a
 * counter, so work on separate branches never fights over a number: add a new
 * file `NNNN_what.ts` and list it here. Never edit one that has shipped.
 */
export interface Migration {
  id: string;
  sql: string;
  /**
   * Run with foreign keys off: a migration that rebuilds a table others reference (drop, then rename the copy) would
   * otherwise have the drop delete or refuse those references. The runner checks every foreign key before it commits.
   */
  foreignKeysOff?: boolean;
}

export const MIGRATIONS: readonly Migration[] = [
  { id: '0001_initial', sql: initial },
  { id: '0003_settlement_credits', sql: settlementCredits },
  { id: '0004_meter_data_status', sql: meterDataStatus },
  { id: '0012_rated_power_source', sql: ratedPowerSource },
  { id: '0013_order_rejections', sql: orderRejections },
  { id: '0014_readings_cutoff', sql: readingsCutoff },
  { id: '0015_orders_seq_index', sql: ordersSeqIndex },
  { id: '0016_clearing_results_rowid', sql: clearingResultsRowid, foreignKeysOff: true },
];
