import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openLedger } from '../../ledger/ledger.js';
import { saveMeterIntervalEnergies } from '../../ledger/meter-data.js';
import { buildDashboard } from '../../dashboard/app.js';
import { decideHold } from '../../settlement/holds.js';
import { ManualClock } from '../../core/clock.js';
import { EventBus } from '../../core/events.js';
import { tempDir } from '../helpers/tmp.js';
import { auth, ENV, fixtureConfig, MIN15, seedLedger, T0, TOKENS } from './fixture.js';

// The operator's queue of held meter data over HTTP: who may see it, who may decide, once, with a reason.
const config = fixtureConfig({ server: { rateLimit: { writesPerMinute: 1000 } } });
const ledger = openLedger(join(tempDir('mgx-holds-'), 'ledger.sqlite'));
seedLedger(ledger, config);
const held = {
  meterId: 'h01-grid',
  importWh: 0,
  exportWh: 400,
  status: 'held' as const,
  method: null,
  firstReadingTs: T0,
  lastReadingTs: T0 + MIN15,
};
saveMeterIntervalEnergies(
  ledger,
  [
    {
      ...held,
      intervalStart: T0 + MIN15,
      reasons: [{ code: 'VEE_SCALE_FACTOR_GLITCH', message: 'exportWh read 54000 Wh, ×10^1 of the trusted 5400 Wh' }],
    },
  ],
  T0 + 2 * MIN15,
);
const clock = new ManualClock(T0 + 3 * MIN15);
const app = buildDashboard({
  ledger,
  config,
  clock,
  bus: new EventBus(),
  version: 'test',
  env: ENV,
  buildBundle: false,
  decideMeterHold: (d) =>
    decideHold(
      ledger,
      { intervalMs: MIN15 },
      d.decision === 'replace'
        ? { ...d, decision: 'replace', importWh: d.importWh ?? -1, exportWh: d.exportWh ?? -1 }
        : { ...d, decision: d.decision },
      clock.now(),
    ),
});
await app.ready();
after(() => app.close());
const interval = new Date(T0 + MIN15).toISOString().replace('.000Z', 'Z');

test('the queue lists held meter-intervals with their reasons: operator and auditor all, a household its own, no one without a token', async () => {
  const list = (await app.inject({ url: '/api/meter-data/holds', headers: auth(TOKENS.operator) })).json();
  assert.deepEqual(
    list.map((h: { meterId: string; interval: string; exportWh: number; decision: null }) => [
      h.meterId,
      h.interval,
      h.exportWh,
      h.decision,
    ]),
    [['h01-grid', interval, 400, null]],
  );
  assert.equal(list[0].reasons[0].code, 'VEE_SCALE_FACTOR_GLITCH');
  assert.equal((await app.inject({ url: '/api/meter-data/holds', headers: auth(TOKENS.auditor) })).json().length, 1);
  assert.equal((await app.inject({ url: '/api/meter-data/holds', headers: auth(TOKENS.h01) })).json().length, 1);
  assert.equal((await app.inject({ url: '/api/meter-data/holds', headers: auth(TOKENS.h02) })).json().length, 0);
  assert.equal(
    (await app.inject({ url: '/api/meter-data/holds?participant=h01', headers: auth(TOKENS.h02) })).statusCode,
    403,
  );
  assert.equal((await app.inject({ url: '/api/meter-data/holds' })).statusCode, 401);
});

test('only the operator decides, with a reason, once; replace needs values or estimate', async () => {
  const post = (token: string, payload: object) =>
    app.inject({ method: 'POST', url: '/api/meter-data/holds/decision', headers: auth(token), payload });
  assert.equal(
    (await post(TOKENS.h01, { interval, meterId: 'h01-grid', decision: 'accept', reason: 'mine' })).statusCode,
    403,
  );
  assert.equal(
    (await post(TOKENS.auditor, { interval, meterId: 'h01-grid', decision: 'accept', reason: 'fine' })).statusCode,
    403,
  );
  const bad = await post(TOKENS.operator, {
    interval,
    meterId: 'h01-grid',
    decision: 'replace',
    reason: 'new value',
    importWh: 5,
  });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().code, 'INVALID_INPUT');
  assert.equal(
    (await post(TOKENS.operator, { interval, meterId: 'h02-grid', decision: 'reject', reason: 'x' })).statusCode,
    404,
  );
  const ok = await post(TOKENS.operator, {
    interval,
    meterId: 'h01-grid',
    decision: 'replace',
    reason: 'read from the display',
    importWh: 0,
    exportWh: 390,
  });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(
    [
      ok.json().decision,
      ok.json().decidedStatus,
      ok.json().decidedExportWh,
      ok.json().method,
      ok.json().decidedBy,
      ok.json().decisionReason,
    ],
    ['replace', 'estimated', 390, 'operator-value', 'operator:token:0', 'read from the display'],
  );
  const again = await post(TOKENS.operator, {
    interval,
    meterId: 'h01-grid',
    decision: 'accept',
    reason: 'changed my mind',
  });
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().code, 'LEDGER_CONFLICT');
  assert.equal(
    (await app.inject({ url: '/api/meter-data/holds', headers: auth(TOKENS.operator) })).json().length,
    0,
    'no longer pending',
  );
  assert.equal(
    (await app.inject({ url: '/api/meter-data/holds?all=true', headers: auth(TOKENS.operator) })).json().length,
    1,
  );
});
