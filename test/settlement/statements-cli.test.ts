import { it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { runMgx } from '../helpers/mgx-process.js';
import { openLedger } from '../../ledger/ledger.js';
import { seedInterval } from '../../settlement/bench/scenario.js';
import { settleInterval } from '../../settlement/settle.js';
import { CONFIG, T0 } from './fixture.js';

it('mgx statements prints a settled interval as CSV or JSON, and names a bad or unsettled interval', () => {
  const dataDir = tempDir();
  const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
  seedInterval(ledger, T0, { households: 6, seed: 3 });
  const { statements } = settleInterval(ledger, T0, CONFIG);
  ledger.close();
  const csv = runMgx(['statements', '--data-dir', dataDir, '--interval', '2027-01-15T08:00:00Z']);
  assert.equal(csv.status, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  assert.equal(
    lines[0],
    'interval,participant,boughtWh,soldWh,gridImportWh,gridExportWh,paid,received,fees,gridAmount,net',
  );
  assert.equal(lines.length, 7);
  assert.equal(
    lines[1],
    [
      '2027-01-15T08:00:00Z',
      statements[0]!.participant,
      statements[0]!.boughtWh,
      statements[0]!.soldWh,
      statements[0]!.gridImportWh,
      statements[0]!.gridExportWh,
      statements[0]!.paid,
      statements[0]!.received,
      statements[0]!.fees,
      statements[0]!.gridAmount,
      statements[0]!.net,
    ].join(','),
  );
  const json = runMgx(['statements', '--data-dir', dataDir, '--interval', '2027-01-15T08:00:00Z', '--format', 'json']);
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual(
    JSON.parse(json.stdout).map((s: { net: string }) => s.net),
    statements.map((s) => s.net),
  );
  const missing = runMgx(['statements', '--data-dir', dataDir, '--interval', '2027-01-15T08:15:00Z']);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /NOT_FOUND/);
  const bad = runMgx(['statements', '--data-dir', dataDir, '--interval', 'yesterday']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--interval.*INVALID_TIME/);
});
