import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Dec as Decimal } from '../../core/units.js';
import { ROOT, spawnMgx } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';
import { ScaledClock } from '../../core/clock.js';
import { startSimulatedHousehold, type SimulatedHousehold } from '../../meter-bridge/simulators/household.js';

/**
 * The first hour of an operator, an auditor and a household, in Chromium
 * against a running `mgx start`: three simulated households served over Modbus
 * TCP by this test (so one can be switched off and on again), the bridge, the
 * ledger, anvil and the dashboard in the child process, market time 120× the
 * wall from 10:00 on a June day. Every view is saved as a screenshot.
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
const OPERATOR = 'first-hour-operator-token-0123456789';
const AUDITOR = 'first-hour-auditor-token-0123456789';
const H01 = 'first-hour-household-h01-token-01234';
const START = Date.parse('2026-06-21T10:00:00Z');
const SPEED = 120;

let mgx: ReturnType<typeof spawnMgx> | undefined;
let browser: Browser | undefined;
let base = '';
const clock = new ScaledClock(SPEED, START);
const sims = new Map<string, SimulatedHousehold>();

const config = (ports: Record<string, number>) => `
microgrid: { name: First hour }
market: { intervalMinutes: 5, gateClosureSeconds: 60, gracePeriodSeconds: 120 }
clock: { speed: ${SPEED}, startAt: "2026-06-21T10:00:00Z" }
bridge:
  pollIntervalMs: 500
  devices:
    - { id: dev-h01, kind: sunspec, transport: { type: tcp, host: 127.0.0.1, port: ${ports.h01} } }
    - { id: dev-h02, kind: sunspec, transport: { type: tcp, host: 127.0.0.1, port: ${ports.h02} } }
    - { id: dev-h03, kind: sunspec, transport: { type: tcp, host: 127.0.0.1, port: ${ports.h03} } }
auth:
  tokens:
    - { token: { env: MGX_FH_OPERATOR }, role: operator }
    - { token: { env: MGX_FH_AUDITOR }, role: auditor }
    - { token: { env: MGX_FH_H01 }, role: household, participant: h01 }
participants:
  - { id: h01, name: Household 01, meters: [{ id: h01-grid, role: grid, device: dev-h01 }, { id: h01-pv, role: pv, device: dev-h01 }], policy: { minSellPrice: "0.1000", maxBuyPrice: "0.2500" } }
  - { id: h02, name: Household 02, meters: [{ id: h02-grid, role: grid, device: dev-h02 }, { id: h02-pv, role: pv, device: dev-h02 }], policy: { minSellPrice: "0.1100", maxBuyPrice: "0.2400" } }
  - { id: h03, name: Household 03, meters: [{ id: h03-grid, role: grid, device: dev-h03 }], policy: { maxBuyPrice: "0.2500" } }
`;

before(async () => {
  // h01 and h02 have panels (sellers at 10:00 in June), h03 none (a buyer).
  for (const [i, id] of ['h01', 'h02', 'h03'].entries())
    sims.set(
      id,
      await startSimulatedHousehold({ clock, index: i, host: '127.0.0.1', ...(id === 'h03' ? { peakPvW: 0 } : {}) }),
    );
  const dir = tempDir();
  const cfg = join(dir, 'microgrid.yaml');
  writeFileSync(cfg, config(Object.fromEntries([...sims].map(([id, s]) => [id, s.port]))));
  mgx = spawnMgx(['start', '--config', cfg, '--data-dir', join(dir, 'data'), '--port', '0'], {
    env: { MGX_FH_OPERATOR: OPERATOR, MGX_FH_AUDITOR: AUDITOR, MGX_FH_H01: H01 },
  });
  base = (await mgx.waitFor(/running at (http:\/\/127\.0\.0\.1:\d+)/, 90_000))[1]!;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, timeout: 30_000 });
});

after(async () => {
  try {
    await browser?.close();
    if (mgx && mgx.child.exitCode === null && mgx.child.signalCode === null) {
      mgx.child.kill('SIGTERM');
      const killer = setTimeout(() => mgx?.child.kill('SIGKILL'), 12_000);
      const exit = await mgx.exited;
      clearTimeout(killer);
      assert.equal(exit.code, 0, `mgx stopped cleanly on SIGTERM:\n${mgx.output().slice(-2000)}`);
    }
  } finally {
    await Promise.all([...sims.values()].map((s) => s.close()));
  }
});

type Errors = Page & { errors: string[] };

/** Opens the page through a sign-in link, as `npm start` logs them. */
async function open(token: string | null): Promise<Errors> {
  const ctx = await browser!.newContext({ viewport: { width: 1280, height: 1400 } });
  const p = (await ctx.newPage()) as Errors;
  p.errors = [];
  p.on('pageerror', (e) => p.errors.push(e.message));
  p.on('console', (m) => m.type() === 'error' && p.errors.push(m.text()));
  await p.goto(token ? `${base}/#token=${encodeURIComponent(token)}` : `${base}/`);
  await p.waitForSelector('#status.live', { timeout: 20_000 });
  return p;
}

const api = async <T>(path: string, token: string): Promise<T> => {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as T;
};
const marketNow = async (): Promise<number> =>
  Date.parse(((await (await fetch(`${base}/api/health`)).json()) as { now: string }).now);
const shot = (p: Page, name: string) =>
  p.screenshot({ path: join(ARTIFACTS, `first-hour-${name}.png`), fullPage: true });
/** "HH:MM" (or "MM-DD HH:MM[:SS]") as minutes of the UTC day. */
const minuteOfDay = (tick: string): number => {
  const m = /(\d\d):(\d\d)(?::\d\d)?$/.exec(tick)!;
  return Number(m[1]) * 60 + Number(m[2]);
};

test(
  "a sign-in link opens the role's view and leaves the address bar without the token",
  { timeout: 60_000 },
  async () => {
    const p = await open(OPERATOR);
    try {
      assert.equal(await p.locator('#who').textContent(), 'operator');
      assert.equal(await p.evaluate(() => location.href), `${base}/`, 'no token in the address bar');
      assert.equal(
        await p.evaluate(() => sessionStorage.getItem('mgx-token')),
        OPERATOR,
        'kept for the session, as the sign-in box keeps it',
      );
      // Kept for the session: a reload is still signed in, with no token in the address.
      await p.reload();
      await p.waitForSelector('#status.live', { timeout: 20_000 });
      assert.equal(await p.locator('#who').textContent(), 'operator');
      await shot(p, 'sign-in');
      assert.deepEqual(p.errors, []);
    } finally {
      await p.context().close();
    }
  },
);

test(
  'operator: axes in market time with readable ticks, a filled energy history, curves of the last metered clearing, transitions in market time',
  { timeout: 120_000 },
  async () => {
    const p = await open(OPERATOR);
    try {
      // The live chart: ticks read HH:MM (a date where the day changes), within the last hour of market time.
      await p.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#live-chart')?.dataset.points ?? 0) >= 8,
        null,
        { timeout: 30_000 },
      );
      const ticks = (await p.locator('#live-chart').getAttribute('data-x-ticks'))!.split('|');
      const now = await marketNow();
      assert.ok(ticks.length >= 2, `ticks: ${ticks.join(' ')}`);
      for (const t of ticks) assert.match(t, /^(\d\d-\d\d )?\d\d:\d\d(:\d\d)?$/, `a readable tick, not ${t}`);
      const nowMin = new Date(now).getUTCHours() * 60 + new Date(now).getUTCMinutes();
      for (const t of ticks)
        assert.ok(
          minuteOfDay(t) <= nowMin && minuteOfDay(t) >= nowMin - 60,
          `tick ${t} within the market's last hour (now ${new Date(now).toISOString()})`,
        );
      assert.match(ticks[0]!, /^06-21 /, 'the first tick carries the market date');

      // The energy history fills its chart: from where the ledger's energy begins, not a 24 h axis with data at its
      // right edge.
      await p.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#history .chart')?.dataset.buckets ?? 0) >= 3,
        null,
        { timeout: 60_000 },
      );
      const h = await p.locator('#history .chart').evaluate((el: HTMLElement) => ({ ...el.dataset }));
      const covered = Number(h.buckets) * Number(h.bucketMs);
      const span = Date.parse(h.to!) - Date.parse(h.from!);
      assert.ok(covered >= 0.6 * span, `buckets cover ${covered} of the ${span} ms shown (${JSON.stringify(h)})`);
      assert.ok(Date.parse(h.from!) >= START, 'the axis starts in market time, at or after the first interval');
      for (const t of h.xTicks!.split('|')) assert.match(t, /^(\d\d-\d\d )?\d\d:\d\d$/, `history tick ${t}`);
      assert.match(
        (await p.locator('#history .note').textContent())!,
        /since 2026-06-21 10:00:00 UTC, where the ledger's energy begins/,
      );

      // Supply and demand: the metered book of the last cleared interval, drawn.
      await p.waitForSelector('#curves canvas', { timeout: 60_000 });
      const curvesNote = (await p.locator('#curves').textContent())!;
      assert.match(curvesNote, /metered book: [1-9]\d* offer prices?, [1-9]\d* bid prices?/);
      assert.doesNotMatch(curvesNote, /No forward orders/);
      const shownInterval = /2026-06-21 (\d\d:\d\d):00 UTC, metered book/.exec(curvesNote)![1];
      const intervals = await api<{ start: string; kinds: string }[]>('/api/intervals?limit=48', OPERATOR);
      const lastMetered = intervals.find((r) => r.kinds.includes('metered'))!;
      assert.ok(
        lastMetered.start.slice(11, 16) >= shownInterval!,
        `the panel shows ${shownInterval}, the ledger's last metered clearing is ${lastMetered.start}`,
      );

      // An interval's transitions: every one in market time (the June day), in order — none in wall time (December).
      await p.waitForFunction(
        () =>
          Array.from(document.querySelectorAll('#intervals tbody tr')).some(
            (tr) => tr.querySelector('td:nth-child(2)')?.textContent === 'final',
          ),
        null,
        { timeout: 60_000 },
      );
      await p.locator('#intervals tbody tr', { hasText: 'final' }).last().click();
      await p.waitForSelector('#interval-detail h3');
      const transitions = (await p.locator('#interval-detail p.note').first().textContent())!;
      const times = [...transitions.matchAll(/(\w+) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map((m) => ({
        state: m[1]!,
        at: Date.parse(m[2]!.replace(' ', 'T') + 'Z'),
      }));
      assert.deepEqual(
        times.map((t) => t.state),
        ['open', 'closed', 'cleared', 'delivered', 'metered', 'settled', 'committed', 'final'],
        transitions,
      );
      for (const t of times)
        assert.ok(
          t.at >= START - 86_400_000 && t.at <= (await marketNow()),
          `${t.state} at ${new Date(t.at).toISOString()}: market time (${transitions})`,
        );
      for (let i = 1; i < times.length; i++) assert.ok(times[i]!.at >= times[i - 1]!.at, `in order: ${transitions}`);
      await shot(p, 'operator');
      assert.deepEqual(p.errors, []);
    } finally {
      await p.context().close();
    }
  },
);

test(
  'operator: a device that stops answering: meters reporting within 3 s, one alarm in force, the tile live; after it recovers no error and the alarm in history',
  { timeout: 120_000 },
  async () => {
    const p = await open(OPERATOR);
    try {
      const kpi = () => p.locator('[data-kpi=meters] .value').textContent();
      await p.waitForFunction(() => document.querySelector('[data-kpi=meters] .value')?.textContent === '5 / 5', null, {
        timeout: 30_000,
      });
      // Every device has a tile, also one whose status never changed after its first poll.
      assert.deepEqual(await p.$$eval('[data-device]', (els) => els.map((e) => e.getAttribute('data-device'))), [
        'dev-h01',
        'dev-h02',
        'dev-h03',
      ]);
      // "last poll" moves with the readings while the status stays online. Both are read in one frame: on a
      // loaded machine one 500 ms cycle can be missed (the tile says stale for that second, as it should), so the
      // test waits for a moved poll shown together with online instead of reading the status a moment later.
      const poll = () => p.locator('[data-device=dev-h01] .poll').textContent();
      const firstPoll = await poll();
      await p.waitForFunction(
        (was) =>
          document.querySelector('[data-device=dev-h01] .poll')?.textContent !== was &&
          document.querySelector('[data-device=dev-h01] .status')?.textContent === 'online',
        firstPoll,
        { timeout: 15_000 },
      );

      const sim = sims.get('h02')!;
      const state = sim.state();
      await sim.close();
      const offFrom = await marketNow();
      const stoppedAt = Date.now();
      await p.waitForFunction(() => document.querySelector('[data-kpi=meters] .value')?.textContent === '3 / 5', null, {
        timeout: 3_000,
      });
      const tookMs = Date.now() - stoppedAt;
      assert.ok(tookMs <= 3_000, `meters reporting said 3 / 5 after ${tookMs} ms`);
      // Offline after three missed cycles: one alarm about it in force, in one format, and its error on the tile.
      await p.waitForFunction(
        () => document.querySelector('[data-device=dev-h02] .status')?.textContent === 'offline',
        null,
        { timeout: 20_000 },
      );
      await p.waitForSelector('[data-device=dev-h02] .error');
      assert.equal(
        await p.locator('#alarms ul.current li[data-subject=dev-h02]').count(),
        1,
        'the device is in force once',
      );
      assert.equal(
        await p.locator('#flow [data-flow=h02]').textContent(),
        'no reading',
        'the flow shows no power for a silent household',
      );
      await shot(p, 'device-offline');

      // It answers again (same port, counters where they were): online, no error, the alarm only in history.
      sims.set(
        'h02',
        await startSimulatedHousehold({
          clock,
          index: 1,
          host: '127.0.0.1',
          port: sim.port,
          startImportWh: state.importWh,
          startExportWh: state.exportWh,
          startPvWh: state.pvWh,
        }),
      );
      outage = { from: offFrom, to: await marketNow() };
      await p.waitForFunction(
        () => document.querySelector('[data-device=dev-h02] .status')?.textContent === 'online',
        null,
        { timeout: 20_000 },
      );
      await p.waitForFunction(() => document.querySelector('[data-kpi=meters] .value')?.textContent === '5 / 5', null, {
        timeout: 10_000,
      });
      assert.equal(await p.locator('[data-device=dev-h02] .error').count(), 0, 'a recovered device shows no error');
      assert.equal(
        await p.locator('#alarms ul.current li[data-subject=dev-h02]').count(),
        0,
        'no alarm in force for it',
      );
      // In history: the outage, and a recovery ending each offline alarm. On a loaded machine (CI, load ~6) the
      // restarted device has flapped once more (three cycles missed again): two of each then, never one unended.
      const offline = await p.locator('#alarms ul.history li[data-code=DEVICE_OFFLINE][data-subject=dev-h02]').count();
      const online = await p.locator('#alarms ul.history li[data-code=DEVICE_ONLINE][data-subject=dev-h02]').count();
      assert.ok(offline >= 1, 'the outage is in history');
      assert.equal(online, offline, 'each offline alarm ended by a recovery');
      assert.equal(await kpi(), '5 / 5');
      await shot(p, 'device-recovered');
      assert.deepEqual(p.errors, []);
    } finally {
      await p.context().close();
    }
  },
);

interface VerifyReport {
  intervals: {
    interval: string;
    pass: boolean;
    checks: { check: string; pass: boolean; figures: Record<string, unknown>; failures: unknown[] }[];
  }[];
}

/** Market time dev-h02 was switched off and on again by the device test. */
let outage: { from: number; to: number } | undefined;

test(
  "auditor: each final interval shows the utility audit's verdict, and the ledger checks agree with it (the first, empty interval and the device outage included)",
  { timeout: 210_000 },
  async () => {
    const p = await open(AUDITOR);
    try {
      assert.equal(await p.locator('#who').textContent(), 'auditor');
      // Wait for the audit of at least three final intervals.
      await p
        .waitForFunction(
          () => document.querySelectorAll('#audit [data-audit=pass], #audit [data-audit=fail]').length >= 3,
          null,
          { timeout: 120_000 },
        )
        .catch(async (err: Error) => {
          // Say what the page showed instead: each row's state and its audit cell (with the error it names).
          const shown = await p.$$eval('#audit tbody tr', (trs) =>
            trs.map(
              (tr) =>
                `${tr.querySelector('td')?.textContent} ${tr.querySelector('td:nth-child(2)')?.textContent} ${tr.querySelector('[data-audit]')?.getAttribute('data-audit')} ${tr.querySelector('[data-audit]')?.getAttribute('title') ?? ''}`,
            ),
          );
          const log = (mgx?.output() ?? '')
            .split('\n')
            .filter((l) => /"level":(40|50)|settlement|chain/.test(l))
            .slice(-25);
          throw new Error(
            `${err.message}\npage errors: ${JSON.stringify(p.errors)}\n${shown.slice(0, 12).join('\n')}\nmgx warnings and settlement lines:\n${log.join('\n')}`,
          );
        });
      const rows = await p.$$eval('#audit tbody tr', (trs) =>
        trs.map((tr) => ({
          start: tr.querySelector('td')?.textContent ?? '',
          state: tr.querySelector('td:nth-child(2)')?.textContent ?? '',
          ledger: tr.querySelector('[data-ledger]')?.getAttribute('data-ledger') ?? '',
          audit: tr.querySelector('[data-audit]')?.getAttribute('data-audit') ?? '',
        })),
      );
      const audited = rows.filter((r) => r.audit === 'pass' || r.audit === 'fail');
      const iso = (shown: string) => shown.replace(' ', 'T').replace(' UTC', '.000Z');
      const from = Math.min(...audited.map((r) => Date.parse(iso(r.start))));
      const to = Math.max(...audited.map((r) => Date.parse(iso(r.start)))) + 5 * 60_000;
      const report = await api<VerifyReport>(
        `/api/audit/verify?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`,
        AUDITOR,
      );
      const byStart = new Map(report.intervals.map((i) => [Date.parse(i.interval), i.pass]));
      const failures = (shown: string) =>
        JSON.stringify(
          report.intervals
            .find((i) => Date.parse(i.interval) === Date.parse(iso(shown)))
            ?.checks.filter((c) => !c.pass),
        );
      // Every audited interval passes, the one in which the previous test switched dev-h02 off included: the audit
      // re-runs the meter data rules on the readings the metering step had (its recorded cut-off), not on the ones
      // that arrived after it. The page shows the audit's verdict.
      for (const r of audited) {
        assert.equal(
          byStart.get(Date.parse(iso(r.start))),
          true,
          `the audit passes ${r.start} (${r.state}): ${failures(r.start)}`,
        );
        assert.equal(r.audit, 'pass', `the page shows the audit's verdict for ${r.start}`);
        assert.equal(r.ledger, 'verified', `the ledger checks agree with the audit for ${r.start} (${r.state})`);
      }
      // The first interval after the start has no reading before it (flagged energy, nothing traded, nothing to
      // commit): the audit passes it, and the ledger checks no longer call it a mismatch.
      const first = rows.at(-1)!;
      assert.equal(first.start, '2026-06-21 10:00:00 UTC');
      assert.equal(first.audit, 'pass', failures(first.start));
      assert.equal(first.ledger, 'verified');
      assert.ok(audited.filter((r) => r.audit === 'pass').length >= 3, "the demo's intervals pass the audit");
      assert.ok(
        rows.filter((r) => r.state !== 'final').every((r) => r.audit === 'waiting'),
        'intervals not yet final wait for the audit',
      );

      // The intervals dev-h02 was off in (its grid meter held or estimated as the engine metered them, the readings
      // after it came back arriving later) pass the audit too, once final: the audit judges them on what the engine
      // had.
      assert.ok(outage, 'the device test ran first');
      const step = 5 * 60_000;
      const offFrom = Math.floor(outage.from / step) * step;
      const offTo = (Math.floor(outage.to / step) + 1) * step;
      const range = `from=${new Date(offFrom).toISOString()}&to=${new Date(offTo).toISOString()}`;
      const finalAll = async () => {
        const list = await api<{ start: string; state: string }[]>(`/api/audit/intervals?${range}`, AUDITOR);
        return list.length === (offTo - offFrom) / step && list.every((r) => r.state === 'final');
      };
      for (const deadline = Date.now() + 60_000; !(await finalAll()) && Date.now() < deadline;)
        await new Promise((r) => setTimeout(r, 500));
      assert.ok(await finalAll(), `the outage's intervals ${range} become final`);
      const off = await api<VerifyReport>(`/api/audit/verify?${range}`, AUDITOR);
      assert.equal(off.intervals.length, (offTo - offFrom) / step);
      assert.deepEqual(
        off.intervals.filter((i) => !i.pass).map((i) => [i.interval, i.checks.filter((c) => !c.pass)]),
        [],
        'every interval of the outage passes the audit',
      );
      const h02 = await Promise.all(
        off.intervals.map(
          async (i) =>
            (
              await api<{ energy: { meterId: string; status: string }[] }>(
                `/api/audit/intervals/${i.interval}`,
                AUDITOR,
              )
            ).energy.find((e) => e.meterId === 'h02-grid')?.status,
        ),
      );
      const shown = JSON.stringify(off.intervals.map((i, k) => [i.interval, h02[k]]));
      assert.ok(
        h02.some((st) => st !== 'actual'),
        `the outage shows in h02-grid's meter data: ${shown}`,
      );
      console.log(
        `first-hour: dev-h02 off ${new Date(outage.from).toISOString()} → ${new Date(outage.to).toISOString()}; h02-grid per interval ${shown}, every one passes the audit`,
      );
      await shot(p, 'auditor');
      assert.deepEqual(p.errors, []);
    } finally {
      await p.context().close();
    }
  },
);

interface StatementRow {
  interval: string;
  boughtWh: number;
  soldWh: number;
  paid: string;
  received: string;
  fees: string;
}

test(
  'household: trades with "a neighbour", and today\'s headline from its statements against the feed-in and retail tariffs',
  { timeout: 150_000 },
  async () => {
    const p = await open(H01);
    try {
      assert.equal(await p.locator('#who').textContent(), 'household · h01');
      await p.waitForFunction(() => document.querySelectorAll('#my-trades tbody tr').length > 0, null, {
        timeout: 120_000,
      });
      const withCol = await p.$$eval('#my-trades tbody tr', (trs) =>
        trs.map((tr) => tr.querySelector('td:nth-child(3)')?.textContent ?? ''),
      );
      assert.ok(
        withCol.length > 0 && withCol.every((w) => w === 'a neighbour'),
        `counterparties: ${withCol.join(', ')}`,
      );
      assert.doesNotMatch(
        (await p.locator('main').textContent())!,
        /\bh0[23]\b|m:\d+:h0[23]/,
        'no neighbour named anywhere on the page',
      );
      const trades = await api<
        { buyer: string | null; seller: string | null; buyOrder: string | null; sellOrder: string | null }[]
      >(`/api/trades?from=2026-06-21T00:00:00Z`, H01);
      for (const t of trades)
        assert.ok([t.buyer, t.seller].includes('h01') && [t.buyer, t.seller].includes(null), JSON.stringify(t));

      // The headline, once a settled interval has a sale: energy and money, and the gain over the tariffs.
      await p.waitForFunction(
        () => !/^0\.000/.test(document.querySelector('[data-today=sold] .value')?.textContent ?? '0.000'),
        null,
        { timeout: 120_000 },
      );
      // One read of the panel (it is redrawn when an interval settles).
      const { shown, how, title } = await p.$eval('#today', (el) => ({
        shown: Object.fromEntries(
          Array.from(el.querySelectorAll('[data-today]')).map((e) => [
            e.getAttribute('data-today')!,
            e.querySelector('.value')?.textContent ?? '',
          ]),
        ),
        how: el.querySelector('.how')?.textContent ?? '',
        title: el.querySelector('[data-today=gain]')?.getAttribute('title') ?? '',
      }));
      // Recomputed here with decimal.js from the statements the page counted (the day's oldest, newer ones may have
      // come since).
      const settled = Number(/(\d+) settled intervals?/.exec(how)![1]);
      const statements = (
        await api<StatementRow[]>(`/api/statements?from=2026-06-21T00:00:00Z&participant=h01`, H01)
      ).slice(-settled);
      const sum = (f: (s: StatementRow) => string) => statements.reduce((a, s) => a.add(f(s)), new Decimal(0));
      const soldWh = statements.reduce((a, s) => a + s.soldWh, 0);
      const boughtWh = statements.reduce((a, s) => a + s.boughtWh, 0);
      const earned = sum((s) => s.received);
      const paid = sum((s) => s.paid).add(sum((s) => s.fees));
      // The grid's side per interval, rounded to the cent as each statement's grid amount is.
      const atTariff = (wh: (s: StatementRow) => number, tariff: string) =>
        statements.reduce((a, s) => a.add(new Decimal(wh(s)).mul(tariff).div(1000).toDecimalPlaces(2)), new Decimal(0));
      const gain = earned.sub(atTariff((s) => s.soldWh, '0.0800')).add(atTariff((s) => s.boughtWh, '0.3000').sub(paid));
      assert.equal(shown.sold, `${(soldWh / 1000).toFixed(3)} kWh`);
      assert.equal(shown.bought, `${(boughtWh / 1000).toFixed(3)} kWh`);
      assert.equal(shown.earned, `${earned.toFixed(2)} EUR`);
      assert.equal(shown.paid, `${paid.toFixed(2)} EUR`);
      assert.equal(shown.gain, `${gain.isNegative() ? '−' : '+'}${gain.abs().toFixed(2)} EUR`);
      // It says how: the tariffs and what the grid would have paid and charged.
      assert.match(how, /feed-in tariff \(0\.0800 EUR\/kWh\) the grid would have paid \d+\.\d\d EUR/);
      assert.match(how, /retail tariff \(0\.3000 EUR\/kWh\) the grid would have charged \d+\.\d\d EUR/);
      assert.equal(title, how.slice(how.indexOf(': ') + 2), "the gain's tooltip says how it is computed");
      await shot(p, 'household');
      assert.deepEqual(p.errors, []);
    } finally {
      await p.context().close();
    }
  },
);
