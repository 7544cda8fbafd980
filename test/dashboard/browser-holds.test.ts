import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildDashboard } from '../../dashboard/app.js';
import type { MeterHoldDecisionRequest } from '../../dashboard/deps.js';
import { decideHold } from '../../settlement/holds.js';
import { validateConfig } from '../../core/config/validate.js';
import { ROOT } from '../helpers/mgx-process.js';
import { INTERVAL, normalMinute, startHouseholds, T0, type Households } from '../meter-data/household.js';

/**
 * The operator's page for held meter data, in Debian's Chromium, against the
 * dashboard server listening on loopback over a ledger the real metering step
 * filled from the independent SunSpec peer: its TotWh_SF glitches 0 → 1 for two
 * polls (raw counters unchanged), so h1-grid's interval 10:05 is held. The
 * operator decides it on the page; it moves to the decided list with who and
 * why, the API says the same, and a second decision (from a page that still
 * shows it pending) shows the API's refusal.
 */

const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard');
mkdirSync(ARTIFACTS, { recursive: true });
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const TOKEN = { operator: 'operator-token-holds-0123456789', h1: 'household-h1-token-holds-0123456789' };
const HELD = 'h1-grid@2027-03-10T10:05:00Z';

let hh: Households;
let app: FastifyInstance;
let base: string;
let browser: Browser;

before(async () => {
  hh = await startHouseholds({ h1RatedPowerW: 5000 });
  await hh.run(0, 15, async (k) => {
    if (k === 7) await hh.sunspec.send('glitch 1');
    if (k === 9) await hh.sunspec.send('unglitch');
    await normalMinute(hh, k);
  });
  for (const i of [0, 1, 2]) hh.sc.meterAndSettle(T0 + i * INTERVAL);
  const sc = hh.sc;
  const config = validateConfig({
    ...sc.config,
    auth: {
      tokens: [
        { token: { env: 'T_OPERATOR' }, role: 'operator' },
        { token: { env: 'T_H1' }, role: 'household', participant: 'h1' },
      ],
    },
  });
  // As app/start.ts wires it: the route's request becomes settlement/holds.ts decideHold at market time.
  const decideMeterHold = (d: MeterHoldDecisionRequest) =>
    decideHold(
      sc.ledger,
      { intervalMs: INTERVAL },
      d.decision === 'replace'
        ? d.estimate
          ? { ...d, decision: 'replace', estimate: true }
          : { ...d, decision: 'replace', importWh: d.importWh ?? -1, exportWh: d.exportWh ?? -1 }
        : { ...d, decision: d.decision },
      sc.clock.now(),
    );
  app = buildDashboard({
    ledger: sc.ledger,
    config,
    clock: sc.clock,
    bus: sc.bus,
    version: 'test',
    env: { T_OPERATOR: TOKEN.operator, T_H1: TOKEN.h1 },
    buildBundle: true,
    decideMeterHold,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  await app?.close();
  await hh?.close();
});

type Errors = Page & { errors: string[] };

async function operatorPage(): Promise<Errors> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1600 } });
  const p = (await ctx.newPage()) as Errors;
  p.errors = [];
  p.on('pageerror', (e) => p.errors.push(e.message));
  p.on('console', (m) => {
    // The page's own failed request (the refused second decision) is logged by Chromium as a console error.
    if (m.type() === 'error' && !/status of 409/.test(m.text())) p.errors.push(m.text());
  });
  await p.goto(`${base}/#token=${TOKEN.operator}`);
  await p.waitForSelector('#status.live', { timeout: 15_000 });
  await p.waitForSelector(`#holds-pending tr[data-hold="${HELD}"]`, { timeout: 15_000 });
  return p;
}

const api = async (path: string, token = TOKEN.operator) => {
  const r = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  return (await r.json()) as Record<string, unknown>[];
};

test('the held interval is listed with its reasons and deadline; deciding it on the page moves it to decided, the API agrees; a second decision shows the API error', async () => {
  const [hold] = await api('/api/meter-data/holds');
  assert.equal(hold!.meterId, 'h1-grid');
  const a = await operatorPage();
  // A second operator page, opened while the hold is still pending: its form is stale after a's decision.
  const b = await operatorPage();

  const row = a.locator(`#holds-pending tr[data-hold="${HELD}"]`);
  const text = (await row.textContent())!;
  assert.match(text, /h1-grid/);
  assert.match(text, /2027-03-10 10:05:00 UTC/);
  assert.match(
    text,
    /VEE_SCALE_FACTOR_GLITCH importWh read 10001230 Wh at 2027-03-10T10:07:00.000Z, ×10\^1 of the trusted 1000123 Wh/,
  );
  assert.match(text, /VEE_GAP/);
  const cells = await row.locator('td').allTextContents();
  assert.deepEqual(cells.slice(3, 5), ['0', '300'], 'import and export Wh, the trusted counter’s');
  assert.equal(cells[6], (hold!.deadline as string).replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC'));
  assert.equal(
    Date.parse(hold!.deadline as string) - Date.parse(hold!.heldAt as string),
    48 * 3_600_000,
    'the default hold window',
  );

  // No reason, no decision: the form does not send (the API would refuse it too).
  await row.locator('button').click();
  assert.equal(await a.locator(`#holds-pending tr[data-hold="${HELD}"]`).count(), 1);
  assert.equal((await api('/api/meter-data/holds')).length, 1, 'still pending');

  // Replace with a value the operator read from the meter's display.
  await row.locator('select[name=decision]').selectOption('replace-value');
  assert.equal(await row.locator('input[name=exportWh]').isVisible(), true);
  await row.locator('input[name=exportWh]').fill('290');
  await row.locator('input[name=reason]').fill('read from the display on site');
  await row.locator('button').click();
  const done = a.locator(`#holds-decided tr[data-hold="${HELD}"]`);
  await done.waitFor({ timeout: 10_000 });
  assert.equal(await a.locator(`#holds-pending tr[data-hold="${HELD}"]`).count(), 0);
  assert.match((await a.locator('#holds-message').textContent())!, /h1-grid .*replace, now estimated 0 \/ 290 Wh/);
  const decidedCells = await done.locator('td').allTextContents();
  assert.deepEqual(decidedCells.slice(0, 6), [
    'h1-grid',
    '2027-03-10 10:05:00 UTC',
    '0 / 300',
    'replace',
    'estimated (operator-value): 0 / 290 Wh',
    'operator:token:0',
  ]);
  assert.equal(decidedCells[7], 'read from the display on site');

  // The API says the same.
  const [decided] = await api('/api/meter-data/holds?all=true');
  assert.deepEqual(
    [
      decided!.decision,
      decided!.decidedStatus,
      decided!.decidedImportWh,
      decided!.decidedExportWh,
      decided!.method,
      decided!.decidedBy,
      decided!.decisionReason,
    ],
    ['replace', 'estimated', 0, 290, 'operator-value', 'operator:token:0', 'read from the display on site'],
  );
  assert.equal(
    decidedCells[6],
    (decided!.decidedAt as string).replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC'),
  );
  assert.deepEqual(await api('/api/meter-data/holds'), [], 'nothing pending');

  // The stale page decides again: the API refuses (decided once), the page says so and shows the decision that stands.
  const stale = b.locator(`#holds-pending tr[data-hold="${HELD}"]`);
  await stale.locator('select[name=decision]').selectOption('reject');
  await stale.locator('input[name=reason]').fill('meter looked broken');
  await stale.locator('button').click();
  await b.waitForFunction(() => document.querySelector('#holds-message')?.className === 'error', null, {
    timeout: 10_000,
  });
  assert.match(
    (await b.locator('#holds-message').textContent())!,
    /^h1-grid at 2027-03-10 10:05:00 UTC: LEDGER_CONFLICT \(409\) /,
  );
  await b.locator(`#holds-decided tr[data-hold="${HELD}"]`).waitFor({ timeout: 10_000 });
  assert.match(
    (await b.locator(`#holds-decided tr[data-hold="${HELD}"]`).textContent())!,
    /replace.*read from the display on site/,
  );
  assert.equal((await api('/api/meter-data/holds?all=true'))[0]!.decision, 'replace', 'the first decision stands');

  await a.screenshot({ path: join(ARTIFACTS, 'holds.png'), fullPage: true });
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await a.context().close();
  await b.context().close();
});

test('a household sees no decision form: its page has no queue, the API refuses its decision', async () => {
  const r = await fetch(`${base}/api/meter-data/holds/decision`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN.h1}`, 'content-type': 'application/json' },
    body: JSON.stringify({ interval: '2027-03-10T10:05:00Z', meterId: 'h1-grid', decision: 'accept', reason: 'mine' }),
  });
  assert.equal(r.status, 403);
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto(`${base}/#token=${TOKEN.h1}`);
  await p.waitForSelector('#status.live', { timeout: 15_000 });
  assert.equal(await p.locator('#holds').count(), 0);
  await ctx.close();
});
