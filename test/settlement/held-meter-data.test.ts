import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { openLedger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { insertReadings } from '../../ledger/readings.js';
import { getSettlementCredits, listIntervalStatements } from '../../ledger/statements.js';
import { listMeterHolds, getMeterHold } from '../../ledger/meter-data.js';
import { createCycleSteps } from '../../app/cycle-steps.js';
import { clearMeterDataAlarms } from '../../app/meter-data-alarms.js';
import { settleInterval } from '../../settlement/settle.js';
import { decideHold, estimateExpiredHolds } from '../../settlement/holds.js';
import { demoConfig } from '../../core/config/demo.js';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type AlarmEvent, type ReadingEvent } from '../../core/events.js';
import { isMicrogridError } from '../../core/errors.js';
import type { Config, ParticipantConfig } from '../../core/config/schema.js';
import { anvilWithCredits } from '../contracts/chain.js';
import { Submitter } from '../../settlement/submitter.js';
import { assertMintedExactlyOnce, SETTLER_KEY } from './fixture.js';

const T0 = Date.parse('2027-03-01T10:00:00Z');
const MIN = 60_000;
const IV = 15 * MIN;
/** The metering step announces its clearing in a microtask: let it run before the ledger closes. */
const settled = () => new Promise((r) => setImmediate(r));

/**
 * Three households through the app's own metering step and settlement: h01
 * exports 3 kW and its meter's scale factor glitches (×10, raw unchanged) in
 * the second interval; h02 and h03 import; h03's counter resets in the
 * second interval.
 */
function build() {
  const base = demoConfig(1, T0);
  const participants: ParticipantConfig[] = ['h01', 'h02', 'h03'].map(
    (id) =>
      ({
        id,
        name: id,
        zone: 'main',
        meters: [{ id: `${id}-grid`, role: 'grid', ratedPowerW: 5000 }],
        policy: {},
      }) as ParticipantConfig,
  );
  const config: Config = {
    ...base,
    participants,
    market: { ...base.market, intervalMinutes: 15 },
    bridge: { ...base.bridge, recordEveryMs: 60_000, pollIntervalMs: 1000 },
    meterData: { holdWindowHours: 48 },
  };
  const ledger = openLedger(join(tempDir(), 'l.db'));
  for (const p of participants) upsertParticipant(ledger, p, 0);
  const readings: ReadingEvent[] = [];
  const r = (meterId: string, ts: number, importWh: number, exportWh: number, powerW: number): ReadingEvent => ({
    type: 'reading',
    meterId,
    ts: new Date(ts).toISOString(),
    powerW,
    importWh,
    exportWh,
    voltageV: 230,
    frequencyHz: 50,
    quality: 'good',
  });
  for (let m = -2; m <= 61; m++) {
    const ts = T0 + m * MIN + 30_000;
    readings.push(r('h01-grid', ts, 10_000, 200_000 + 50 * (m + 2), -3000));
    readings.push(r('h02-grid', ts, 300_000 + Math.floor((2000 * (m + 2)) / 60), 0, 2000));
    const h03 = 400_000 + Math.floor((1000 * (m + 2)) / 60);
    readings.push(r('h03-grid', ts, m >= 20 ? h03 - 400_000 : h03, 0, 1000));
  }
  for (const s of [5_000, 10_000]) {
    const m = 20;
    readings.push(r('h01-grid', T0 + m * MIN + 30_000 + s, 100_000, (200_000 + 50 * (m + 2)) * 10, -3000));
  }
  insertReadings(ledger, readings, T0);
  const bus = new EventBus();
  const alarms: AlarmEvent[] = [];
  bus.on('alarm', (a) => alarms.push(a));
  const clock = new ManualClock(T0 + 70 * MIN);
  const steps = createCycleSteps({ ledger, config, clock, bus });
  return { ledger, config, steps, alarms, clock, bus };
}

test('held meter data: no trade, no credit, no grid billing; the interval settles for everyone else; the decision lands on a later statement', async () => {
  const { ledger, config, steps, alarms, bus } = build();
  const starts = [T0, T0 + IV, T0 + 2 * IV, T0 + 3 * IV];
  for (const s of starts.slice(0, 3)) {
    steps.meter(s);
    settleInterval(ledger, s, config, T0 + 70 * MIN);
  }
  const energy = (s: number, m: string) =>
    ledger.db
      .prepare(
        'SELECT import_wh AS i, export_wh AS x, status, reasons FROM interval_energy WHERE interval_start = ? AND meter_id = ?',
      )
      .get(s, m) as { i: number; x: number; status: string; reasons: string };
  assert.deepEqual(
    [0, 1, 2].map((k) => energy(starts[k]!, 'h01-grid').status),
    ['actual', 'held', 'actual'],
  );
  assert.equal(energy(starts[1]!, 'h01-grid').x, 750, 'held at the trusted counter delta');
  assert.match(energy(starts[1]!, 'h01-grid').reasons, /VEE_SCALE_FACTOR_GLITCH/);
  assert.equal(energy(starts[2]!, 'h01-grid').x, 750, 'the interval after the glitch is right to the Wh');
  assert.equal(energy(starts[1]!, 'h03-grid').status, 'held');
  assert.match(energy(starts[1]!, 'h03-grid').reasons, /VEE_COUNTER_BACKWARDS/);
  assert.ok(alarms.some((a) => a.code === 'METER_DATA_HELD' && a.subject === '2027-03-01T10:15:00Z'));

  // The held interval: h01 and h03 neither trade nor settle; h02 settles against the grid; nothing is credited.
  assert.equal(getSettlementCredits(ledger, starts[1]!)!.exportWh, 0);
  assert.equal(getSettlementCredits(ledger, starts[1]!)!.status, 'empty');
  const st1 = new Map(listIntervalStatements(ledger, starts[1]!).map((s) => [s.participant, s]));
  assert.deepEqual([st1.get('h01')!.gridExportWh, st1.get('h01')!.soldWh, st1.get('h01')!.net], [0, 0, '0.00']);
  assert.equal((st1.get('h01')!.detail as { meterData: { status: string } }).meterData.status, 'held');
  assert.equal(st1.get('h02')!.gridImportWh, 500);
  // Around it h01 sells its 750 Wh to its neighbours, and the credits are exactly that.
  assert.equal(getSettlementCredits(ledger, starts[2]!)!.exportWh, 750);
  assert.equal(
    getSettlementCredits(ledger, starts[2]!)!.credits.reduce((s, c) => s + c.wh, 0),
    750,
  );

  // The queue lists both with their reasons; the operator accepts h01's and replaces h03's with the estimate.
  const pending = listMeterHolds(ledger, { pending: true });
  assert.deepEqual(
    pending.map((h) => h.meterId),
    ['h01-grid', 'h03-grid'],
  );
  assert.ok(pending[0]!.reasons.some((x) => x.code === 'VEE_SCALE_FACTOR_GLITCH'));
  const ctx = { intervalMs: IV };
  decideHold(
    ledger,
    ctx,
    {
      decision: 'accept',
      intervalStart: starts[1]!,
      meterId: 'h01-grid',
      by: 'operator:token:0',
      reason: 'firmware glitch; counters fine',
    },
    T0 + 80 * MIN,
  );
  assert.throws(
    () =>
      decideHold(
        ledger,
        ctx,
        { decision: 'reject', intervalStart: starts[1]!, meterId: 'h01-grid', by: 'operator:token:0', reason: 'again' },
        T0 + 81 * MIN,
      ),
    (e) => isMicrogridError(e, 'LEDGER_CONFLICT'),
  );
  assert.throws(
    () =>
      decideHold(
        ledger,
        ctx,
        { decision: 'reject', intervalStart: starts[1]!, meterId: 'h03-grid', by: 'operator:token:0', reason: ' ' },
        T0,
      ),
    (e) => isMicrogridError(e, 'INVALID_INPUT'),
  );
  // h03's energy includes a step estimated across its counter reset: accepting it would credit energy no meter
  // measured.
  assert.throws(
    () =>
      decideHold(
        ledger,
        ctx,
        {
          decision: 'accept',
          intervalStart: starts[1]!,
          meterId: 'h03-grid',
          by: 'operator:token:0',
          reason: 'looks fine',
        },
        T0 + 80 * MIN,
      ),
    (e) =>
      isMicrogridError(e, 'INVALID_INPUT') &&
      e.field === 'decision' &&
      /estimated across a counter reset/.test(e.message),
  );
  assert.equal(
    getMeterHold(ledger, starts[1]!, 'h03-grid')!.decision,
    null,
    'the refused decision leaves the hold pending',
  );
  const h03 = decideHold(
    ledger,
    ctx,
    {
      decision: 'replace',
      estimate: true,
      intervalStart: starts[1]!,
      meterId: 'h03-grid',
      by: 'operator:token:0',
      reason: 'meter replaced',
    },
    T0 + 80 * MIN,
  );
  // 250 Wh flowed: 234 Wh the counters measured, and the minute across the reset (unknown to the counters)
  // estimated by the power readings on both sides, (1000 W + 1000 W) / 2 × 60 s = 16 Wh (docs/meter-data.md).
  assert.deepEqual([h03.decidedStatus, h03.method, h03.decidedImportWh], ['estimated', 'time-apportioned', 250]);
  const h03Reasons = energy(starts[1]!, 'h03-grid').reasons;
  assert.match(h03Reasons, /VEE_RESET_ESTIMATED/);
  assert.match(
    h03Reasons,
    /importWh reset from 400350 Wh to 366 Wh between 2027-03-01T10:19:30.000Z and 2027-03-01T10:20:30.000Z: the energy across it is unknown to the counter, estimated at 16 Wh \(by the power readings: \(1000 W \+ 1000 W\) \/ 2 over 60 s\)/,
  );

  // The next statements carry the decisions (the settled ones do not change); accepted export is credited on its own.
  // Every held meter of 10:15 is decided: its alarm ends.
  clearMeterDataAlarms(bus, listMeterHolds(ledger), starts[1]!, T0 + 80 * MIN);
  assert.ok(
    alarms.some(
      (a) => a.code === 'METER_DATA_DECIDED' && a.clears === 'METER_DATA_HELD' && a.subject === '2027-03-01T10:15:00Z',
    ),
  );
  const before = JSON.stringify(listIntervalStatements(ledger, starts[1]!));
  steps.meter(starts[3]!);
  settleInterval(ledger, starts[3]!, config, T0 + 90 * MIN);
  assert.equal(JSON.stringify(listIntervalStatements(ledger, starts[1]!)), before);
  const st3 = new Map(listIntervalStatements(ledger, starts[3]!).map((s) => [s.participant, s]));
  const adj = (st3.get('h01')!.detail as { adjustments: { exportWh: number; amount: string; gridExportWh: number }[] })
    .adjustments;
  assert.deepEqual(
    adj.map((a) => [a.exportWh, a.gridExportWh, a.amount]),
    [[750, 750, '0.06']],
  );
  const adj3 = (st3.get('h03')!.detail as { adjustments: { importWh: number; amount: string }[] }).adjustments;
  assert.deepEqual(
    adj3.map((a) => [a.importWh, a.amount]),
    [[250, '-0.08']],
  );
  const held = getMeterHold(ledger, starts[1]!, 'h01-grid')!;
  assert.equal(held.appliedIn, starts[3]);
  assert.equal(held.creditedIn, starts[1]! + 1000);
  const adjCredits = getSettlementCredits(ledger, starts[1]! + 1000)!;
  assert.deepEqual(
    [adjCredits.status, adjCredits.exportWh, adjCredits.credits.reduce((s, c) => s + c.wh, 0)],
    ['queued', 750, 750],
  );
  // Settling again changes nothing and credits nothing twice.
  assert.equal(settleInterval(ledger, starts[3]!, config, T0 + 95 * MIN).saved, 'unchanged');
  assert.equal(getSettlementCredits(ledger, starts[1]! + 2000), undefined);
  await settled();
  ledger.close();
});

test('a hold nobody decides within the window is estimated by the system', async () => {
  const { ledger, config, steps } = build();
  steps.meter(T0 + IV);
  settleInterval(ledger, T0 + IV, config, T0 + 70 * MIN);
  assert.equal(
    estimateExpiredHolds(ledger, { intervalMs: IV, windowMs: 48 * 3_600_000 }, T0 + 48 * 3_600_000).length,
    0,
    'held at 11:10, the window ends at 11:10 two days later',
  );
  const done = estimateExpiredHolds(ledger, { intervalMs: IV, windowMs: 48 * 3_600_000 }, T0 + 50 * 3_600_000);
  assert.deepEqual(
    done.map((h) => [h.meterId, h.decision, h.decidedStatus, h.decidedBy]),
    [
      ['h01-grid', 'estimate', 'estimated', 'system:hold-window'],
      ['h03-grid', 'estimate', 'estimated', 'system:hold-window'],
    ],
  );
  await settled();
  ledger.close();
});

test('the first interval after the first start is partial: measured from the first reading, settled with the grid, no alarm', async () => {
  const { ledger, config, steps, alarms } = build();
  const first = T0 - IV; // the readings begin at 09:58:30
  steps.meter(first);
  const rows = ledger.db
    .prepare(
      'SELECT meter_id AS m, status, import_wh AS i, reasons FROM interval_energy WHERE interval_start = ? ORDER BY meter_id',
    )
    .all(first) as { m: string; status: string; i: number; reasons: string }[];
  assert.deepEqual(
    rows.map((r) => [r.m, r.status]),
    [
      ['h01-grid', 'partial'],
      ['h02-grid', 'partial'],
      ['h03-grid', 'partial'],
    ],
  );
  assert.equal(
    rows[1]!.i,
    49,
    'h02: 09:58:30 → 10:00, the counter interpolated between 300 033 Wh (09:59:30) and 300 066 Wh (10:00:30), floored',
  );
  assert.match(rows[0]!.reasons, /VEE_FIRST_READING/);
  assert.deepEqual(
    alarms.filter((a) => a.severity !== 'info'),
    [],
  );
  const r = settleInterval(ledger, first, config, T0);
  assert.equal(r.record.exportWh, 0, 'partial energy earns no credits');
  assert.equal(r.statements.find((x) => x.participant === 'h02')!.gridImportWh, rows[1]!.i);
  await settled();
  ledger.close();
});

test(
  'accepted held export is minted on chain in a commitment of its own (token id = held interval + 1 s)',
  { timeout: 120_000 },
  async () => {
    const chain = await anvilWithCredits();
    const { ledger, config, steps } = build();
    try {
      const starts = [T0, T0 + IV, T0 + 2 * IV, T0 + 3 * IV];
      for (const s of starts.slice(0, 3)) {
        steps.meter(s);
        settleInterval(ledger, s, config, T0 + 70 * MIN);
      }
      decideHold(
        ledger,
        { intervalMs: IV },
        {
          decision: 'accept',
          intervalStart: starts[1]!,
          meterId: 'h01-grid',
          by: 'operator:token:0',
          reason: 'firmware glitch',
        },
        T0 + 80 * MIN,
      );
      decideHold(
        ledger,
        { intervalMs: IV },
        {
          decision: 'reject',
          intervalStart: starts[1]!,
          meterId: 'h03-grid',
          by: 'operator:token:0',
          reason: 'meter swapped',
        },
        T0 + 80 * MIN,
      );
      steps.meter(starts[3]!);
      settleInterval(ledger, starts[3]!, config, T0 + 90 * MIN);
      const sub = new Submitter({
        ledger,
        rpcUrl: chain.anvil.rpcUrl,
        chainId: 31337,
        privateKey: SETTLER_KEY,
        contract: chain.address,
        pollMs: 20,
      });
      await sub.drain(60_000);
      const minted = [starts[0]!, starts[2]!, starts[3]!, starts[1]! + 1000].filter(
        (s) => getSettlementCredits(ledger, s)!.status !== 'empty',
      );
      assert.ok(minted.includes(starts[1]! + 1000));
      await assertMintedExactlyOnce(chain.clients, chain.address, ledger, minted);
      assert.equal(getSettlementCredits(ledger, starts[1]! + 1000)!.status, 'final');
      assert.equal(
        getSettlementCredits(ledger, starts[1]!)!.status,
        'empty',
        'the held interval itself credits nothing',
      );
    } finally {
      await settled();
      ledger.close();
      await chain.anvil.stop();
    }
  },
);
