import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Address } from 'viem';
import { anvilWithCredits } from '../contracts/chain.js';
import type { AnvilInstance } from '../../settlement/chain/anvil.js';
import { runAudit } from '../../audit/audit.js';
import { auditForDashboard } from '../../audit/for-dashboard.js';
import { exportBundle, verifyBundle, type Bundle } from '../../audit/bundle.js';
import { meterDataRulesOf } from '../../audit/meter-data-window.js';
import type { AuditReport } from '../../audit/types.js';
import { insertReadings } from '../../ledger/readings.js';
import { latestReadingsCutoff } from '../../ledger/readings-cutoff.js';
import { runMgx } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';
import { writeConfigFile } from './config-file.js';
import { submitAll } from './fixture.js';
import { INTERVAL, lateDay, MIN, T0, type LateDay } from './late-readings-day.js';

/**
 * Issue 12's audit gap, deterministic: household h1's gateway loses its
 * link from 09:07 to 09:19; its readings of those minutes reach the ledger
 * in one spool flush at 09:19, after 09:05 and 09:10 were metered (held:
 * no reading after their end yet). The engine meters on the readings it
 * has, records that cut-off, settles and commits to anvil; the hold window
 * (6 minutes here) estimates both holds on the readings known then and the
 * next statements carry them. `mgx audit`, the dashboard's verify and an
 * evidence bundle re-validate on the readings received by each cut-off:
 * the honest ledger passes, and each doctoring fails, named.
 */

let anvil: AnvilInstance;
let contract: Address;
let day: LateDay;
const dir = tempDir('mgx-late-');
const INTERVALS = 6;
const LINK_DOWN = { from: 7, to: 19 };

before(async () => {
  ({ anvil, address: contract } = await anvilWithCredits());
  day = await lateDay(dir, {
    households: [
      { importPerMin: 0, exportPerMin: 60 },
      { importPerMin: 0, exportPerMin: 40 },
      { importPerMin: 150, exportPerMin: 0 },
    ],
    intervals: INTERVALS,
    sign: true,
    holdWindowHours: 0.1,
    deliveredAt: (h, k) => (h === 1 && k >= LINK_DOWN.from && k < LINK_DOWN.to ? LINK_DOWN.to : k),
  });
  await submitAll(day.ledger, anvil.rpcUrl, contract);
});
after(async () => {
  day?.ledger.close();
  await anvil?.stop();
});

const tariffs = () => ({
  feedInTariff: day.config.market.feedInTariff,
  retailTariff: day.config.market.retailTariff,
  minorUnits: day.config.microgrid.currencyMinorUnits,
});
const audit = (workers?: number): Promise<AuditReport> =>
  runAudit({
    ledger: day.ledger,
    rpcUrl: anvil.rpcUrl,
    contract,
    from: T0,
    to: T0 + INTERVALS * INTERVAL,
    intervalMs: INTERVAL,
    tariffs: tariffs(),
    meterData: meterDataRulesOf(day.config),
    ...(workers ? { workers } : {}),
  });
const minute = (iso: string): number => (Date.parse(iso) - T0) / MIN;
/** [interval minute, check, record] of every failure. */
const failures = (r: AuditReport) =>
  r.intervals.flatMap((i) => i.checks.flatMap((c) => c.failures.map((f) => [minute(i.interval), c.check, f.record])));
const cutoff = (start: number): number =>
  (
    day.ledger.db
      .prepare("SELECT received_by AS c FROM interval_energy WHERE interval_start = ? AND meter_id = 'h1-grid'")
      .get(start) as { c: number }
  ).c;
const receivedAt = (meter: string, k: number): number =>
  (
    day.ledger.db
      .prepare('SELECT received_at AS r FROM readings WHERE meter_id = ? AND ts = ?')
      .get(meter, T0 + k * MIN) as { r: number }
  ).r;
const setReceivedAt = (meter: string, k: number, at: number): void =>
  void day.ledger.db
    .prepare('UPDATE readings SET received_at = ? WHERE meter_id = ? AND ts = ?')
    .run(at, meter, T0 + k * MIN);

it('the engine meters on the readings it has and records the cut-off: held while h1 is cut off, actual from its spool on', () => {
  const rows = day.ledger.db
    .prepare(
      'SELECT interval_start AS s, meter_id AS m, status, import_wh AS i, export_wh AS x, reasons, received_by AS c FROM interval_energy ORDER BY interval_start, meter_id',
    )
    .all() as { s: number; m: string; status: string; i: number; x: number; reasons: string; c: number }[];
  const h1 = rows
    .filter((r) => r.m === 'h1-grid')
    .map((r) => [(r.s - T0) / MIN, r.status, r.x, (JSON.parse(r.reasons) as { code: string }[]).map((x) => x.code)]);
  assert.deepEqual(h1, [
    [0, 'actual', 200, []],
    [5, 'held', 40, ['VEE_GAP']],
    [10, 'held', 0, ['VEE_GAP']],
    [15, 'actual', 200, []],
    [20, 'actual', 200, []],
    [25, 'actual', 200, []],
  ]);
  assert.ok(rows.filter((r) => r.m !== 'h1-grid').every((r) => r.status === 'actual'));
  // One cut-off per step, the market time it ran at (one minute after the interval's end).
  for (const r of rows) assert.equal(r.c, r.s + 6 * MIN, `${r.m} @ ${(r.s - T0) / MIN}`);
  // The spooled readings were received at 09:19, after both held intervals' cut-offs; on-time ones by their minute.
  assert.equal(receivedAt('h1-grid', 10), T0 + 19 * MIN);
  assert.ok(receivedAt('h1-grid', 10) > cutoff(T0 + 2 * INTERVAL));
  assert.equal(receivedAt('h0-grid', 10), T0 + 10 * MIN);
  // The hold window estimated both holds on the readings known then (the spool's): 200 Wh each, as the counters say.
  const holds = day.ledger.db
    .prepare(
      'SELECT interval_start AS s, decision, decided_export_wh AS x, decided_by AS by, applied_in AS a FROM meter_data_holds ORDER BY interval_start',
    )
    .all() as { s: number; decision: string; x: number; by: string; a: number }[];
  assert.deepEqual(
    holds.map((h) => [(h.s - T0) / MIN, h.decision, h.x, h.by, (h.a - T0) / MIN]),
    [
      [5, 'estimate', 200, 'system:hold-window', 15],
      [10, 'estimate', 200, 'system:hold-window', 20],
    ],
  );
  // Nothing is lost: h1's energies (held ones as decided) add up to its counter delta over the run.
  const used = h1.map(([m, status, x]) =>
    status === 'held' ? holds.find((h) => (h.s - T0) / MIN === m)!.x : (x as number),
  );
  assert.equal(
    used.reduce((a, b) => a + b, 0),
    day.counter(1, 30).exportWh - day.counter(1, 0).exportWh,
  );
});

it('a reading stored after a step, in the same millisecond, is stamped after its cut-off', () => {
  const c = latestReadingsCutoff(day.ledger)!;
  assert.equal(c, day.clock.now(), 'the last step ran at this market time');
  const ev = {
    type: 'reading' as const,
    meterId: 'h2-grid',
    ts: new Date(day.clock.now() + 1).toISOString(),
    powerW: 0,
    importWh: 9_999_999,
    exportWh: 0,
    voltageV: null,
    frequencyHz: null,
    quality: 'good' as const,
  };
  insertReadings(day.ledger, [ev], day.clock.now());
  const stored = day.ledger.db.prepare('SELECT received_at AS r FROM readings WHERE meter_id = ? AND ts = ?');
  assert.equal((stored.get('h2-grid', day.clock.now() + 1) as { r: number }).r, c + 1);
  day.ledger.db.prepare('DELETE FROM readings WHERE meter_id = ? AND ts = ?').run('h2-grid', day.clock.now() + 1);
});

it("mgx audit, the dashboard's verify and an evidence bundle pass the honest ledger: each interval re-validated on the readings its step had", async () => {
  const r = await audit();
  assert.deepEqual(failures(r), []);
  assert.equal(r.passed, INTERVALS);
  const held = r.intervals.map((i) => i.checks.find((c) => c.check === 'energy')!.figures.held);
  assert.deepEqual(held, [0, 1, 1, 0, 0, 0]);
  // The worker threads a long range is audited with load evidence the same way.
  assert.deepEqual((await audit(2)).intervals, r.intervals);
  // The same rule in the app's /api/audit/verify.
  const verify = await auditForDashboard({ ledger: day.ledger, config: day.config, rpcUrl: anvil.rpcUrl, contract })({
    from: T0,
    to: T0 + INTERVALS * INTERVAL,
  });
  assert.deepEqual(verify.intervals, r.intervals);
  // And in `mgx audit` from the data folder.
  const cli = runMgx([
    'audit',
    '--data-dir',
    dir,
    '--config',
    writeConfigFile(dir, day.config),
    '--rpc',
    anvil.rpcUrl,
    '--contract',
    contract,
    '--from',
    new Date(T0).toISOString(),
    '--to',
    new Date(T0 + INTERVALS * INTERVAL).toISOString(),
    '--format',
    'json',
  ]);
  assert.equal(cli.status, 0, cli.stdout.slice(-2000) + cli.stderr);
  assert.equal((JSON.parse(cli.stdout) as AuditReport).passed, INTERVALS);

  // The bundle of 09:05 carries each reading's receipt and the cut-off, and only what the step had.
  const out = join(dir, 'bundle-0905.json');
  await exportBundle({
    ledger: day.ledger,
    rpcUrl: anvil.rpcUrl,
    contract,
    start: T0 + INTERVAL,
    intervalMs: INTERVAL,
    tariffs: tariffs(),
    out,
    meterData: meterDataRulesOf(day.config),
  });
  const b = JSON.parse(readFileSync(out, 'utf8')) as Bundle;
  assert.equal(b.format, 'mgx-audit-bundle/2');
  const by = b.evidence.energy.find((e) => e.meterId === 'h1-grid')!.receivedBy!;
  assert.equal(by, T0 + 11 * MIN);
  const h1 = b.evidence.readings.filter((x) => x.meterId === 'h1-grid');
  assert.deepEqual(
    h1.map((x) => minute(new Date(x.ts).toISOString())),
    [0, 1, 2, 3, 4, 5, 6],
    'h1: the readings received by 09:11',
  );
  assert.ok(b.evidence.readings.every((x) => x.receivedAt <= by));
  assert.equal((await verifyBundle(out, { rpcUrl: anvil.rpcUrl })).pass, true);
  // A bundle whose reading was moved after the cut-off fails: h1's 09:06 no longer counts.
  h1.find((x) => x.ts === T0 + 6 * MIN)!.receivedAt = by + 1;
  writeFileSync(out, JSON.stringify(b));
  const bad = await verifyBundle(out, { rpcUrl: anvil.rpcUrl });
  // (its statement's meter-data detail, from the re-validated status, differs too)
  assert.deepEqual(failures(bad), [
    [5, 'energy', 'meter h1-grid'],
    [5, 'statements', 'statement of h1 (detail)'],
  ]);
});

it('doctored: a late reading back-dated before the cut-off, readings the step had moved after it, the cut-off removed, a held interval made actual — each fails, named', async (t) => {
  const restore: (() => void)[] = [];
  t.after(() => restore.reverse().forEach((f) => f()));
  /**
   * The intervals that fail, each with the energy check naming the meter among its failures (others follow from it).
   */
  const failing = (fails: (string | number)[][], record: string): [number, boolean][] =>
    [...new Set(fails.map((f) => f[0] as number))].map((m) => [
      m,
      fails.some((f) => f[0] === m && f[1] === 'energy' && f[2] === record),
    ]);
  const once = async (doctor: () => () => void): Promise<(string | number)[][]> => {
    const undo = doctor();
    try {
      return failures(await audit());
    } finally {
      undo();
    }
  };
  // h1's spooled 09:10 reading claimed as received by 09:05's cut-off: both held intervals now see it (and their
  // committed readings roots no longer match the boundary readings: the chain binds them too).
  const backDated = await once(() => {
    const was = receivedAt('h1-grid', 10);
    setReceivedAt('h1-grid', 10, cutoff(T0 + INTERVAL));
    return () => setReceivedAt('h1-grid', 10, was);
  });
  assert.deepEqual(
    failing(backDated, 'meter h1-grid'),
    [
      [5, true],
      [10, true],
    ],
    JSON.stringify(backDated),
  );
  // h0's 09:10 and 09:11, which the 09:05 step had, claimed as received after it: by the rules 09:05 is then held
  // (no reading after its end), and its trades and credits are energy the rules reject.
  const hidden = await once(() => {
    const was = [receivedAt('h0-grid', 10), receivedAt('h0-grid', 11)];
    setReceivedAt('h0-grid', 10, cutoff(T0 + INTERVAL) + 1);
    setReceivedAt('h0-grid', 11, cutoff(T0 + INTERVAL) + 1);
    return () => {
      setReceivedAt('h0-grid', 10, was[0]!);
      setReceivedAt('h0-grid', 11, was[1]!);
    };
  });
  assert.deepEqual(failing(hidden, 'meter h0-grid rule VEE_GAP'), [[5, true]], JSON.stringify(hidden));
  // Without the cut-off (every stored reading, as the audit read them before): the spool makes 09:05 and 09:10 look
  // bracketed, and the honest held energy looks wrong — the failure this change removes.
  const noCutoff = await once(() => {
    day.ledger.db
      .prepare('UPDATE interval_energy SET received_by = NULL WHERE interval_start IN (?, ?)')
      .run(T0 + INTERVAL, T0 + 2 * INTERVAL);
    return () => {
      day.ledger.db
        .prepare('UPDATE interval_energy SET received_by = ? WHERE interval_start = ?')
        .run(T0 + 11 * MIN, T0 + INTERVAL);
      day.ledger.db
        .prepare('UPDATE interval_energy SET received_by = ? WHERE interval_start = ?')
        .run(T0 + 16 * MIN, T0 + 2 * INTERVAL);
    };
  });
  assert.deepEqual(
    failing(noCutoff, 'meter h1-grid'),
    [
      [5, true],
      [10, true],
    ],
    JSON.stringify(noCutoff),
  );
  assert.deepEqual(failures(await audit()), [], 'each doctoring undone: the ledger passes again');
  // The held 09:05 energy rewritten as actual (what metered clearing and credits would then use): the rule is named.
  const row = day.ledger.db
    .prepare("SELECT reasons, quality FROM interval_energy WHERE meter_id = 'h1-grid' AND interval_start = ?")
    .get(T0 + INTERVAL) as { reasons: string; quality: string };
  day.ledger.db
    .prepare(
      "UPDATE interval_energy SET status = 'actual', reasons = '[]', quality = 'good' WHERE meter_id = 'h1-grid' AND interval_start = ?",
    )
    .run(T0 + INTERVAL);
  restore.push(() =>
    day.ledger.db
      .prepare(
        "UPDATE interval_energy SET status = 'held', reasons = ?, quality = ? WHERE meter_id = 'h1-grid' AND interval_start = ?",
      )
      .run(row.reasons, row.quality, T0 + INTERVAL),
  );
  const r = await audit();
  assert.deepEqual(failing(failures(r), 'meter h1-grid rule VEE_GAP'), [[5, true]], JSON.stringify(failures(r)));
  const f = r.intervals[1]!.checks.find((c) => c.check === 'energy')!.failures;
  assert.equal(f.length, 1);
  assert.equal(f[0]!.message, 'the ledger settled energy that the meter-data rules reject');
  assert.match(
    String(f[0]!.expected),
    /^held, import 0 Wh, export 40 Wh: VEE_GAP no trusted reading at or after 2027-06-01T09:10:00.000Z yet; the last trusted one is at 2027-06-01T09:06:00.000Z/,
  );
});
