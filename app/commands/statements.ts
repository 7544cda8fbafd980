import { join } from 'node:path';
import { openLedger } from '../../ledger/ledger.js';
import { listIntervalStatements } from '../../ledger/statements.js';
import { parseUtc } from '../../core/interval.js';
import { MicrogridError, invalid } from '../../core/errors.js';
import { statementsToCsv, statementsToJson, type Statement } from '../../settlement/statements.js';
import { dataDirOf, type Command } from './command.js';

/**
 * `mgx statements --interval ISO [--format csv|json]`: the settled statements of one interval, from the ledger
 * (read-only).
 */
export const statementsCommand: Command = {
  name: 'statements',
  summary: 'print the settlement statements of one interval as CSV or JSON',
  usage: `      --interval T     interval start, ISO 8601 UTC (e.g. 2027-01-15T08:00:00Z)
      --format F       csv (default) or json`,
  options: { interval: { type: 'string' }, format: { type: 'string' } },
  async run(ctx) {
    const start = parseUtc(ctx.values.interval, '--interval');
    const format = ctx.values.format ?? 'csv';
    if (format !== 'csv' && format !== 'json') throw invalid('USAGE', '--format', format, 'csv or json');
    const ledger = openLedger(join(dataDirOf(ctx), 'ledger.sqlite'), { readonly: true });
    try {
      const rows = listIntervalStatements(ledger, start) as Statement[];
      if (rows.length === 0)
        throw new MicrogridError('NOT_FOUND', 'no statements for this interval (not settled yet?)', {
          field: '--interval',
          value: ctx.values.interval,
          expected: 'a settled interval',
        });
      ctx.stdout.write(format === 'csv' ? statementsToCsv(rows) : statementsToJson(rows));
      return 0;
    } finally {
      ledger.close();
    }
  },
};
