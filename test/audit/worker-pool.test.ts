import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startWorkers } from '../../audit/worker-pool.js';
import type { MicrogridError } from '../../core/errors.js';

it('a worker that cannot open its ledger fails the audit with the ledger error as the cause (not an unhandled pool error)', async () => {
  const pool = startWorkers({ ledgerPath: '/nonexistent/ledger.sqlite', rpcUrl: 'http://127.0.0.1:1', contract: `0x${'0'.repeat(40)}`, intervalMs: 900_000, tariffs: { feedInTariff: '0.08', retailTariff: '0.30', minorUnits: 2 } }, 2);
  try {
    await assert.rejects(pool.audit([Date.UTC(2027, 0, 1)], new Map()), (e: Error) => {
      assert.match(e.message, /audit worker/);
      assert.equal((e.cause as MicrogridError).code, 'LEDGER_OPEN');
      return true;
    });
  } finally {
    await pool.stop();
  }
});
