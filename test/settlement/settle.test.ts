import { it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { openLedger } from '../../ledger/ledger.js';
import { advanceInterval, getInterval } from '../../ledger/intervals.js';
import { getSettlementCredits, listIntervalStatements } from '../../ledger/statements.js';
import { settleInterval } from '../../settlement/settle.js';
import { statementsToCsv, statementsToJson } from '../../settlement/statements.js';
import { derivedAccount } from '../../settlement/accounts.js';
import { seedInterval } from '../../settlement/bench/scenario.js';
import { isMicrogridError } from '../../core/errors.js';
import { Dec } from '../../core/units.js';

const config = { market: { feedInTariff: '0.0800', retailTariff: '0.3000' }, microgrid: { currencyMinorUnits: 2 } };
const START = Date.UTC(2027, 0, 15, 8, 0);

it('settles a metered interval into statements and credits, moves it to settled, and is idempotent', () => {
  const ledger = openLedger(join(tempDir(), 'l.db'));
  const { exportWh } = seedInterval(ledger, START, { households: 40, seed: 7 });
  for (const s of ['open', 'closed', 'cleared', 'delivered', 'metered'] as const) advanceInterval(ledger, START, s, 1);
  const r = settleInterval(ledger, START, config, 2);
  assert.equal(r.saved, 'saved');
  assert.equal(getInterval(ledger, START)?.state, 'settled');
  assert.equal(
    r.credits.reduce((s, c) => s + c.wh, 0),
    exportWh,
  );
  const stored = getSettlementCredits(ledger, START)!;
  assert.equal(stored.status, 'queued');
  assert.equal(stored.exportWh, exportWh);
  assert.match(stored.tradesRoot, /^0x[0-9a-f]{64}$/);
  assert.match(stored.readingsRoot, /^0x[0-9a-f]{64}$/);
  assert.equal(stored.credits[0]!.account, r.credits[0]!.account);
  // participants without an account get the documented derived address
  assert.ok(r.credits.every((c) => c.account === derivedAccount(c.participants[0]!)));
  const st = listIntervalStatements(ledger, START);
  assert.equal(st.length, 40);
  const paid = st.reduce((a, s) => a.plus(s.paid), new Dec(0));
  assert.ok(paid.eq(st.reduce((a, s) => a.plus(s.received), new Dec(0))) && paid.gt(0));
  // again: same figures, nothing written twice
  assert.equal(settleInterval(ledger, START, config, 3).saved, 'unchanged');
  const csv = statementsToCsv(r.statements).trim().split('\n');
  assert.equal(
    csv[0],
    'interval,participant,boughtWh,soldWh,gridImportWh,gridExportWh,paid,received,fees,gridAmount,net',
  );
  assert.equal(csv.length, 41);
  assert.equal(JSON.parse(statementsToJson(r.statements)).length, 40);
  ledger.close();
});

it('refuses an interval that is not metered yet, or has no clearing result', () => {
  const ledger = openLedger(join(tempDir(), 'l.db'));
  seedInterval(ledger, START, { households: 4 });
  advanceInterval(ledger, START, 'open', 1);
  assert.throws(
    () => settleInterval(ledger, START, config),
    (e) => isMicrogridError(e, 'SETTLEMENT_INPUT'),
  );
  assert.throws(
    () => settleInterval(ledger, START + 900_000, config),
    (e) => isMicrogridError(e, 'SETTLEMENT_INPUT') && /no clearing result/.test(e.message),
  );
  ledger.close();
});
