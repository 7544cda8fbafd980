import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeFixture, TOKENS, T0, MIN15, clearing, type Fixture } from './fixture.js';
import { startLiveFeed } from './live-feed.js';
import { saveClearing } from '../../ledger/clearing.js';
import { advanceInterval } from '../../ledger/intervals.js';
import { ROOT } from '../helpers/mgx-process.js';

// The real page in a real Chromium (Debian's), against a listening server fed by a live bus.

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

let f: Fixture;
let base: string;
let browser: Browser;
let feed: ReturnType<typeof startLiveFeed>;

before(async () => {
  f = await makeFixture({ buildBundle: true });
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(f.app.server.address() as { port: number }).port}`;
  feed = startLiveFeed(f.bus, f.ledger, 500);
  // playwright gives every launch a fresh temporary profile (it refuses --user-data-dir in args).
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, timeout: 30_000 });
});

after(async () => {
  feed?.stop();
  await browser?.close();
  await f?.app.close();
});

async function page(token?: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
  const p = await ctx.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await p.goto(base + '/');
  if (token) {
    await p.fill('#login input[name=token]', token);
    await Promise.all([p.waitForEvent('load'), p.click('#login button')]);
  }
  await p.waitForSelector('#status.live', { timeout: 10_000 });
  (p as Page & { errors: string[] }).errors = errors;
  return p;
}

test('public: the page loads from the same server, live balance without participant data', async () => {
  const p = await page();
  await p.waitForFunction(() => document.querySelector('[data-kpi=meters] .value')?.textContent === '5 / 5', null, {
    timeout: 10_000,
  });
  assert.equal(await p.locator('#who').textContent(), 'public view');
  assert.equal(await p.locator('#flow [data-participant]').count(), 0, 'no household in the public flow');
  await p.screenshot({ path: join(ARTIFACTS, 'public.png'), fullPage: true });
  assert.deepEqual((p as Page & { errors: string[] }).errors, []);
  await p.context().close();
});

test('operator: flow diagram and live chart show the values the meters send; an interval clears without reload', async () => {
  const p = await page(TOKENS.operator);
  await p.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  // The flow shows each household's grid power as the feed last sent it.
  await p.waitForFunction(() => document.querySelectorAll('#flow [data-participant]').length === 3);
  await p.waitForFunction(
    (expected) => {
      const txt = document.querySelector('#flow [data-flow=h03]')?.textContent ?? '';
      return txt.includes(expected);
    },
    `${((700 + 150 * 3) / 1000).toFixed(2)} kW`,
    { timeout: 10_000 },
  );
  const h01 = await p.locator('#flow [data-flow=h01]').textContent();
  assert.match(h01!, /^[↑↓] (\d+ W|\d+\.\d\d kW)$/);
  // The live chart gathers points from the stream.
  await p.waitForFunction(
    () => document.querySelectorAll('#live-chart canvas').length > 0 && Number(document.body.dataset.seq) > 3,
  );
  const grid = await p.locator('#flow [data-flow=grid]').textContent();
  assert.match(grid!, /(import|export) /);
  assert.equal(await p.locator('#devices .tile').count(), 3);
  assert.match((await p.locator('#alarms').textContent())!, /No alarms/);

  // Interval 12:15 is cleared by the "engine": stored, then announced on the bus.
  const start = T0 + MIN15;
  for (const s of ['closed', 'cleared'] as const) advanceInterval(f.ledger, start, s, start + MIN15);
  saveClearing(f.ledger, clearing(start, '0.1400', [{ buyer: 'h03', seller: 'h01', wh: 250 }]), start + MIN15);
  f.bus.emit({
    type: 'interval-cleared',
    interval: '2026-11-21T12:15:00Z',
    kind: 'metered',
    clearingPrice: '0.1400',
    matchedWh: 250,
    trades: 1,
  });
  await p.waitForFunction(
    () => document.querySelector('[data-kpi=price] .value')?.textContent?.startsWith('0.1400'),
    null,
    { timeout: 10_000 },
  );
  await p.waitForFunction(
    () =>
      Array.from(document.querySelectorAll('#intervals tbody tr')).some(
        (tr) => tr.textContent?.includes('0.1400') && tr.textContent.includes('cleared'),
      ),
    null,
    { timeout: 10_000 },
  );
  assert.equal(await p.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'no reload happened');
  // One click from the chart's interval list to its trades.
  await p.locator('#intervals tbody tr', { hasText: '0.1400' }).click();
  await p.waitForSelector('#interval-detail h3');
  assert.match((await p.locator('#interval-detail').textContent())!, /h03.*h01|h01.*h03/s);
  await p.screenshot({ path: join(ARTIFACTS, 'operator.png'), fullPage: true });
  assert.deepEqual((p as Page & { errors: string[] }).errors, []);
  await p.context().close();
});

test('household: logs in and sees only its own meters, trades, statements and credits', async () => {
  const p = await page(TOKENS.h01);
  assert.equal(await p.locator('#who').textContent(), 'household · h01');
  await p.waitForFunction(
    () => /surplus|from the grid/.test(document.querySelector('#my-surplus')?.textContent ?? ''),
    null,
    { timeout: 10_000 },
  );
  await p.waitForSelector('#my-credits table');
  const statements = await p.locator('#my-statements tbody tr').count();
  assert.equal(statements, 1, 'one statement: its own');
  const trades = await p.locator('#my-trades tbody tr').allTextContents();
  assert.ok(
    trades.length >= 1 && trades.every((t) => t.includes('sold')),
    `only its own trades: ${trades.join(' | ')}`,
  );
  // The stream in the page carries only h01's meters.
  const meters = await p.evaluate(async () => {
    const t = sessionStorage.getItem('mgx-token');
    const r = await fetch('/api/state', { headers: { authorization: `Bearer ${t}` } });
    return Object.keys(((await r.json()) as { state: { meters: object } }).state.meters).sort();
  });
  assert.deepEqual(meters, ['h01-grid', 'h01-pv']);
  assert.equal(await p.locator('#flow').count(), 0, 'no microgrid flow diagram for a household');
  assert.doesNotMatch((await p.locator('main').textContent())!, /h02-grid|Household 02/);
  // A credit links to its transaction.
  await p.locator('#my-credits a.tx').first().click();
  await p.waitForSelector('#interval-detail code.focus');
  // Standing prices are editable.
  await p.fill('#my-prices input[name=minSellPrice]', '0.1234');
  await p.click('#my-prices button');
  await p.waitForFunction(() => document.querySelector('#my-prices .note:last-child')?.textContent === 'Saved.');
  assert.deepEqual(f.ledger.db.prepare("SELECT min_sell_price AS p FROM participants WHERE id = 'h01'").get(), {
    p: '0.1234',
  });
  await p.screenshot({ path: join(ARTIFACTS, 'household.png'), fullPage: true });
  assert.deepEqual((p as Page & { errors: string[] }).errors, []);
  await p.context().close();
});

test('auditor: intervals with commitments and verification, and a drill-down', async () => {
  const p = await page(TOKENS.auditor);
  await p.waitForSelector('#audit table');
  const row = p.locator('#audit tbody tr', { hasText: '12:00:00' });
  assert.match((await row.textContent())!, /verified/);
  await row.click();
  await p.waitForSelector('#audit-detail ul.checks');
  assert.match((await p.locator('#audit-detail').textContent())!, /credits equal metered export/);
  await p.screenshot({ path: join(ARTIFACTS, 'auditor.png'), fullPage: true });
  assert.deepEqual((p as Page & { errors: string[] }).errors, []);
  await p.context().close();
});
