import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, spawnMgx } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';
import { deltaReadings, type StreamFrame } from '../../dashboard/live/model.js';

/**
 * The page in Chromium against a running demo: `mgx start` as a child process
 * (simulated households over Modbus TCP, the bridge, the SQLite ledger, anvil,
 * the dashboard), market time 120× the wall, 5-minute intervals (2.5 s each).
 * Nothing is fed by the test: every value on the page comes from the app.
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
const OPERATOR = 'live-operator-token-0123456789';
const H01 = 'live-household-h01-token-0123456';

// 10:00 on a June day: the simulated panels export, so intervals trade.
const CONFIG = `
microgrid: { name: Live browser test }
market: { intervalMinutes: 5, gateClosureSeconds: 60, gracePeriodSeconds: 120 }
clock: { speed: 120, startAt: "2026-06-21T10:00:00Z" }
demo: { enabled: true, households: 3 }
auth:
  tokens:
    - { token: { env: MGX_LIVE_OPERATOR }, role: operator }
    - { token: { env: MGX_LIVE_H01 }, role: household, participant: h01 }
participants:
  - { id: h01, name: Household 01, zone: north, meters: [{ id: h01-grid, role: grid }, { id: h01-pv, role: pv }], policy: { minSellPrice: "0.1000", maxBuyPrice: "0.2500" } }
  - { id: h02, name: Household 02, zone: north, meters: [{ id: h02-grid, role: grid }, { id: h02-pv, role: pv }], policy: { minSellPrice: "0.1100", maxBuyPrice: "0.2400" } }
  - { id: h03, name: Household 03, zone: south, meters: [{ id: h03-grid, role: grid }], policy: { maxBuyPrice: "0.2500" } }
`;

let mgx: ReturnType<typeof spawnMgx> | undefined;
let browser: Browser | undefined;
let base = '';

before(async () => {
  const dir = tempDir();
  const cfg = join(dir, 'microgrid.yaml');
  writeFileSync(cfg, CONFIG);
  mgx = spawnMgx(['start', '--config', cfg, '--data-dir', join(dir, 'data'), '--port', '0'], {
    env: { MGX_LIVE_OPERATOR: OPERATOR, MGX_LIVE_H01: H01 },
  });
  base = (await mgx.waitFor(/running at (http:\/\/127\.0\.0\.1:\d+)/, 90_000))[1]!;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  if (mgx && mgx.child.exitCode === null && mgx.child.signalCode === null) {
    mgx.child.kill('SIGTERM');
    // The app stops within 10 s on SIGTERM (app/start.ts); a hung stop must not hang the suite.
    const killer = setTimeout(() => mgx?.child.kill('SIGKILL'), 12_000);
    const exit = await mgx.exited;
    clearTimeout(killer);
    assert.equal(exit.code, 0, `mgx stopped cleanly on SIGTERM:\n${mgx.output().slice(-2000)}`);
  }
});

type LivePage = Page & { errors: string[]; stream: StreamFrame[] };

async function open(token?: string): Promise<LivePage> {
  const ctx = await browser!.newContext({ viewport: { width: 1280, height: 1400 } });
  const p = (await ctx.newPage()) as LivePage;
  p.errors = [];
  p.stream = [];
  p.on('pageerror', (e) => p.errors.push(e.message));
  p.on('console', (m) => m.type() === 'error' && p.errors.push(m.text()));
  // What the page's signed-in WebSocket receives (it redeems a ticket; the public page before sign-in has none).
  p.on('websocket', (ws) => {
    if (!ws.url().includes('ticket=')) return;
    ws.on('framereceived', (f) => typeof f.payload === 'string' && p.stream.push(JSON.parse(f.payload) as StreamFrame));
  });
  await p.goto(base + '/');
  if (token) {
    await p.fill('#login input[name=token]', token);
    await Promise.all([p.waitForEvent('load'), p.click('#login button')]);
  }
  await p.waitForSelector('#status.live', { timeout: 15_000 });
  return p;
}

const intervalRows = (p: Page): Promise<{ start: string; state: string; price: string }[]> =>
  p.$$eval('#intervals tbody tr', (trs) =>
    trs.map((tr) => {
      const td = Array.from(tr.querySelectorAll('td')).map((c) => c.textContent?.trim() ?? '');
      return { start: td[0] ?? '', state: td[1] ?? '', price: td[2] ?? '' };
    }),
  );

test(
  'operator, live demo: the flow shows W values that change, the charts fill, an interval clears without reload',
  { timeout: 120_000 },
  async () => {
    const p = await open(OPERATOR);
    try {
      await p.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
      // The flow diagram: every household with a reading in W or kW, and the values move.
      await p.waitForFunction(() => document.querySelectorAll('#flow [data-participant]').length === 3, null, {
        timeout: 15_000,
      });
      const flowText = () =>
        p.$$eval('#flow [data-flow]', (els) =>
          els.map((e) => `${e.getAttribute('data-flow')}=${e.textContent ?? ''}`).join(' | '),
        );
      await p.waitForFunction(
        () =>
          Array.from(document.querySelectorAll('#flow [data-flow]')).every((e) =>
            /\d+ W|\d+\.\d\d kW/.test(e.textContent ?? ''),
          ),
        null,
        { timeout: 20_000 },
      );
      const first = await flowText();
      for (const part of first.split(' | '))
        assert.match(part, /^(h0[123]=[↑↓] |grid=(import|export) ?)(\d+ W|\d+\.\d\d kW)$/, first);
      await p.waitForFunction(
        (was) =>
          Array.from(document.querySelectorAll('#flow [data-flow]'))
            .map((e) => `${e.getAttribute('data-flow')}=${e.textContent ?? ''}`)
            .join(' | ') !== was,
        first,
        { timeout: 20_000 },
      );
      const later = await flowText();
      assert.notEqual(later, first, 'the flow values change as the simulated households are polled');

      // The live chart gathers a point per frame; the energy history draws once an interval is metered.
      await p.waitForFunction(
        () => Number((document.querySelector('#live-chart') as HTMLElement | null)?.dataset.points ?? 0) >= 5,
        null,
        { timeout: 20_000 },
      );
      assert.ok((await p.locator('#live-chart canvas').count()) > 0);

      // An interval clears while the page is open: a row with a price that was not there at load.
      await p.waitForSelector('#intervals tbody tr', { timeout: 20_000 });
      const atLoad = new Map((await intervalRows(p)).map((r) => [r.start, r]));
      await p.waitForFunction(
        (known) => {
          const seen = new Map(known);
          return Array.from(document.querySelectorAll('#intervals tbody tr')).some((tr) => {
            const td = Array.from(tr.querySelectorAll('td')).map((c) => c.textContent?.trim() ?? '');
            const price = td[2] ?? '';
            return /^\d+\.\d{4}$/.test(price) && seen.get(td[0] ?? '') !== price;
          });
        },
        [...atLoad].map(([k, v]) => [k, v.price] as [string, string]),
        { timeout: 60_000 },
      );
      const cleared = (await intervalRows(p)).find(
        (r) => /^\d+\.\d{4}$/.test(r.price) && atLoad.get(r.start)?.price !== r.price,
      )!;
      assert.match(cleared.state, /^(cleared|delivered|metered|settled|committed|final)$/);
      assert.equal(await p.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'no reload happened');
      // The ledger behind the page agrees: that interval has that clearing price.
      const api = (await (
        await fetch(`${base}/api/intervals?limit=48`, { headers: { authorization: `Bearer ${OPERATOR}` } })
      ).json()) as { start: string; clearingPrice: string | null }[];
      assert.ok(
        api.some((r) => r.clearingPrice === cleared.price),
        `the API lists an interval cleared at ${cleared.price}`,
      );
      // The balance strip shows that price once the stream announces the clearing.
      await p.waitForFunction(
        () => /^\d+\.\d{4}/.test(document.querySelector('[data-kpi=price] .value')?.textContent ?? ''),
        null,
        { timeout: 20_000 },
      );

      await p.waitForFunction(
        () =>
          document.querySelectorAll('#history canvas').length > 0 &&
          /\d+ buckets/.test(document.querySelector('#history .note')?.textContent ?? ''),
        null,
        { timeout: 30_000 },
      );
      await p.screenshot({ path: join(ARTIFACTS, 'live-operator.png'), fullPage: true });
      assert.deepEqual(p.errors, []);
    } finally {
      await p.context().close();
    }
  },
);

test('household, live demo: a household token sees only its own data', { timeout: 60_000 }, async () => {
  const p = await open(H01);
  try {
    assert.equal(await p.locator('#who').textContent(), 'household · h01');
    await p.waitForFunction(
      () => /surplus|from the grid/.test(document.querySelector('#my-surplus')?.textContent ?? ''),
      null,
      { timeout: 20_000 },
    );
    assert.equal(await p.locator('#flow').count(), 0, 'no microgrid flow diagram for a household');
    // Its stream carries readings, all of them its own meters'.
    await p.waitForFunction(() => Number(document.body.dataset.seq) > 0, null, { timeout: 15_000 });
    const deadline = Date.now() + 15_000;
    const readings = () => p.stream.flatMap((f) => (f.type === 'delta' ? deltaReadings(f) : []));
    while (readings().length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const meters = new Set(readings().map((e) => e.meterId));
    assert.ok(meters.size > 0, 'the page received live readings');
    assert.deepEqual(
      [...meters].filter((m) => !m.startsWith('h01-')),
      [],
      'only h01 meters in the household stream',
    );
    const snap = p.stream.find((f) => f.type === 'snapshot');
    assert.ok(snap && snap.type === 'snapshot');
    assert.deepEqual(Object.keys(snap.state.meters).sort(), ['h01-grid', 'h01-pv']);
    assert.doesNotMatch((await p.locator('main').textContent())!, /h02-|h03-|Household 02|Household 03/);
    await p.screenshot({ path: join(ARTIFACTS, 'live-household.png'), fullPage: true });
    assert.deepEqual(p.errors, []);
    // The API with the page's own token: its participant, and nobody else's (the 403 is logged by the page, after the
    // check above).
    // (No named functions inside evaluate: the test's transpiler would wrap them in a helper the page lacks.)
    const status = await p.evaluate(async () => {
      const headers = { authorization: `Bearer ${sessionStorage.getItem('mgx-token') ?? ''}` };
      const [own, other] = await Promise.all(
        ['/api/participants/h01', '/api/participants/h02'].map((u) => fetch(u, { headers })),
      );
      return { own: own!.status, other: other!.status };
    });
    assert.deepEqual(status, { own: 200, other: 403 });
    // The order form offers the first interval still open by the market's clock (the demo runs ahead of the wall
    // clock).
    const health = async () =>
      (await (await fetch(`${base}/api/health`)).json()) as { now: string; intervalMinutes: number };
    const before = await health();
    await p.waitForFunction(
      () => (document.querySelector<HTMLInputElement>('#order-form input[name=interval]')?.value ?? '') !== '',
      null,
      { timeout: 10_000 },
    );
    const offered = Date.parse(await p.locator('#order-form input[name=interval]').inputValue());
    const after = await health();
    const step = before.intervalMinutes * 60_000;
    assert.equal(offered % step, 0, 'an interval start');
    assert.ok(
      offered > Date.parse(before.now) - 3 * step && offered <= Date.parse(after.now) + 3 * step,
      `offered ${new Date(offered).toISOString()} near the market's now ${before.now}…${after.now}`,
    );
  } finally {
    await p.context().close();
  }
});
