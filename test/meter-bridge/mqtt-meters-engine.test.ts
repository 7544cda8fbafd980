import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ManualClock } from '../../core/clock.js';
import { parseConfigText } from '../../core/config/validate.js';
import type { ReadingEvent } from '../../core/events.js';
import { recoverReadingSigner } from '../../core/reading-typed-data.js';
import { startMicrogrid, type RunningMicrogrid } from '../../app/start.js';
import { listReadingsBefore } from '../../ledger/readings.js';
import { startBroker, type Broker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { waitUntil } from './helpers.js';
import { shellyEm, shellyEmData, tasmotaSensor } from './mqtt-meters/payloads.js';
import { startPublisher, type Publisher } from './mqtt-meters/publisher.js';

/**
 * The test: a script publishes recorded Tasmota and Shelly Gen2
 * payload sequences (their real formats) to a real mosquitto, one message
 * set per minute of market time for five 15-minute intervals; the whole
 * microgrid runs in process (startMicrogrid: bridge, ledger, metering step,
 * settlement, anvil) on a ManualClock, so every reading's time is the
 * minute it was published at. The ledger's interval energies for the two
 * meters are the hand-computed counter deltas, status actual; a Tasmota
 * counter reset is held and a Shelly silence estimated, by the published
 * meter-data rules (settlement/meter-data/).
 */

const T0 = Date.parse('2026-06-21T10:00:00Z');
const MIN = 60_000;
const silent = pino({ level: 'silent' });

// Tasmota (h1's grid meter, single phase with ExportActive): Wh per minute imported / exported in each interval.
const H1_IMPORT_PER_MIN = [25, 5, 40, 10, 10];
const H1_EXPORT_PER_MIN = [0, 30, 0, 0, 0];
const H1_BASE = { importWh: 7_654_321, exportWh: 120_000 };
/** At minute 52 the plug's counter drops by 3 kWh (a reset: EnergyTotal set by hand), then counts on from there. */
const RESET_AT = 52;
const RESET_WH = 3000;
// Shelly Pro 3EM (h2's grid meter): 12 Wh a minute drawn; 8 a minute returned in interval 2; silent from minute 61 to
// 73.
const H2_IMPORT_PER_MIN = 12;
const H2_BASE = { importWh: 5_000_000.37, exportWh: 2_000.5 };
const SILENT = (k: number): boolean => k >= 61 && k <= 73;

// Minutes 75 and 76 (after the last interval, the readings that close it) keep interval 4's rates.
const intervalOf = (k: number): number => Math.min(4, Math.floor(k / 15));

/**
 * The Tasmota counters at minute k (k ≥ -1): each minute adds that interval's rate (the minute ending at k belongs to
 * interval ⌊(k−1)/15⌋).
 */
function h1At(k: number): { importWh: number; exportWh: number; powerW: number } {
  let imp = H1_BASE.importWh;
  let exp = H1_BASE.exportWh;
  for (let m = 0; m < k; m++) {
    const i = intervalOf(m);
    imp += H1_IMPORT_PER_MIN[i]!;
    exp += H1_EXPORT_PER_MIN[i]!;
    if (m + 1 === RESET_AT) imp -= RESET_WH + H1_IMPORT_PER_MIN[i]!; // the minute of the reset: no energy counted, the counter drops
  }
  const i = intervalOf(Math.max(0, k));
  return { importWh: imp, exportWh: exp, powerW: (H1_IMPORT_PER_MIN[i]! - H1_EXPORT_PER_MIN[i]!) * 60 };
}

function h2At(k: number): { importWh: number; exportWh: number; powerW: number } {
  const exportMinutes = Math.max(0, Math.min(k, 45) - 30);
  const i = intervalOf(Math.max(0, k));
  return {
    importWh: H2_BASE.importWh + H2_IMPORT_PER_MIN * (k + 1),
    exportWh: H2_BASE.exportWh + 8 * exportMinutes,
    powerW: (H2_IMPORT_PER_MIN - (i === 2 ? 8 : 0)) * 60,
  };
}

let broker: Broker;
let pub: Publisher;
let mg: RunningMicrogrid;
const readings: ReadingEvent[] = [];

before(async () => {
  broker = await startBroker();
  pub = await startPublisher(broker.url);
  const config = parseConfigText(
    `
microgrid: { id: mqtt-street, name: MQTT Street }
market: { intervalMinutes: 15, gracePeriodSeconds: 60 }
bridge:
  recordEveryMs: 60000
  devices:
    - { id: plug-h1, kind: tasmota, transport: { type: mqtt, url: "${broker.url}", topic: tasmota_H1 }, ratedPowerW: 11000 }
    - { id: em-h2, kind: shelly-gen2, transport: { type: mqtt, url: "${broker.url}", topic: shellypro3em-h2 }, ratedPowerW: 24150 }
participants:
  - { id: h1, name: Household 1, meters: [{ id: h1-grid, role: grid, device: plug-h1 }] }
  - { id: h2, name: Household 2, meters: [{ id: h2-grid, role: grid, device: em-h2 }] }
`,
    'microgrid.yaml',
  );
  const clock = new ManualClock(T0 - 2 * MIN);
  mg = await startMicrogrid({
    config,
    configSource: 'test',
    dataDir: tempDir('mgx-mqtt-meters-'),
    log: silent,
    port: 0,
    clock,
  });
  mg.bus.on('reading', (r) => void readings.push(r));
  await pub.publish('tele/tasmota_H1/LWT', 'Online', true);
  await pub.publish('shellypro3em-h2/online', 'true', true);
  await waitUntil(
    () => mg.bridge.health().every((h) => h.status === 'online'),
    15_000,
    'both meters online (their subscriptions are active)',
  );

  // The script: minute by minute of market time, each meter's messages, waiting until the bridge took them.
  for (let k = -1; k <= 76; k++) {
    await clock.advanceTo(T0 + k * MIN);
    const before = readings.length;
    const h1 = h1At(k);
    await pub.publish(
      'tele/tasmota_H1/SENSOR',
      tasmotaSensor({
        importWh: h1.importWh,
        exportWh: h1.exportWh,
        powerW: h1.powerW,
        voltageV: 230.5,
        frequencyHz: 50,
        time: new Date(T0 + k * MIN + 2 * 3_600_000).toISOString().slice(0, 19),
      }),
    );
    let expected = 1;
    if (!SILENT(k)) {
      const h2 = h2At(k);
      await pub.publish('shellypro3em-h2/status/em:0', shellyEm(h2.powerW));
      await pub.publish('shellypro3em-h2/status/emdata:0', shellyEmData(h2.importWh, h2.exportWh));
      expected++;
    }
    await waitUntil(() => readings.length === before + expected, 15_000, `minute ${k}: ${expected} readings`).catch(
      (e: Error) => {
        throw new Error(
          `${e.message}; got ${JSON.stringify(readings.slice(before))}; health ${JSON.stringify(mg.bridge.health())}`,
        );
      },
    );
  }
  await clock.advanceTo(T0 + 78 * MIN);
  const metered = (): number =>
    (
      mg.ledger.db
        .prepare(
          "SELECT COUNT(*) AS n FROM interval_energy WHERE interval_start >= ? AND interval_start < ? AND meter_id IN ('h1-grid','h2-grid')",
        )
        .get(T0, T0 + 75 * MIN) as { n: number }
    ).n;
  await waitUntil(
    async () => (await mg.cycle.tick(), metered() === 10),
    60_000,
    'five intervals metered for both meters',
  );
});

after(async () => {
  await mg?.stop();
  await pub?.close();
  await broker?.stop();
});

const energy = (meter: string) =>
  (
    mg.ledger.db
      .prepare(
        'SELECT interval_start AS s, import_wh AS i, export_wh AS x, status, method, reasons FROM interval_energy WHERE meter_id = ? AND interval_start >= ? AND interval_start < ? ORDER BY interval_start',
      )
      .all(meter, T0, T0 + 75 * MIN) as {
      s: number;
      i: number;
      x: number;
      status: string;
      method: string | null;
      reasons: string;
    }[]
  ).map((r) => [
    (r.s - T0) / MIN,
    r.i,
    r.x,
    r.status,
    r.method,
    [...new Set((JSON.parse(r.reasons) as { code: string }[]).map((x) => x.code))],
  ]);

test('Tasmota: interval energies are the ENERGY.Total / ExportActive deltas to the Wh, actual; the reset interval is held, the next one actual again', () => {
  assert.deepEqual(energy('h1-grid'), [
    [0, 15 * 25, 0, 'actual', null, []],
    [15, 15 * 5, 15 * 30, 'actual', null, []],
    [30, 15 * 40, 0, 'actual', null, []],
    // 45→51: 6 × 10 Wh; the minute of the reset is estimated at the counter's rate just before (10 Wh); 52→60: 8 × 10
    // Wh.
    [45, 6 * 10 + 10 + 8 * 10, 0, 'held', null, ['VEE_COUNTER_BACKWARDS', 'VEE_RESET_ESTIMATED']],
    [60, 15 * 10, 0, 'actual', null, []],
  ]);
});

test('Shelly Gen2: interval energies are the emdata:0 total_act / total_act_ret deltas (floored Wh), actual; the silent interval is estimated from the counters around it', () => {
  const rows = energy('h2-grid');
  assert.deepEqual(
    rows.map((r) => r.slice(0, 4)),
    [
      [0, 180, 0, 'actual'],
      [15, 180, 0, 'actual'],
      [30, 180, 120, 'actual'],
      [45, 180, 0, 'actual'],
      // No message from minute 61 to 73: the counters at 60 and 74 bracket the gap; both boundaries have readings, so
      // the delta is exact.
      [60, 180, 0, 'estimated'],
    ],
  );
  assert.deepEqual(rows[4]!.slice(4), ['time-apportioned', ['VEE_GAP']], 'the estimate names its method and the gap');
});

test('the stored readings are the payloads, stamped with the receipt minute, signed by the gateway that received them', async () => {
  const h1 = listReadingsBefore(mg.ledger, 'h1-grid', T0, T0 + 2 * MIN + 1);
  assert.deepEqual(
    h1.map((r) => [(r.ts - T0) / MIN, r.importWh, r.exportWh, r.powerW, r.voltageV, r.frequencyHz, r.quality]),
    [0, 1, 2].map((k) => [k, H1_BASE.importWh + 25 * k, H1_BASE.exportWh, 1500, 230.5, 50, 'good']),
  );
  const reset = listReadingsBefore(mg.ledger, 'h1-grid', T0 + RESET_AT * MIN, T0 + RESET_AT * MIN + 1)[0]!;
  assert.equal(reset.quality, 'suspect', 'the bridge flagged the step back live, as for Modbus');
  const h2 = listReadingsBefore(mg.ledger, 'h2-grid', T0 + 60 * MIN, T0 + 75 * MIN + 1);
  assert.deepEqual(
    h2.map((r) => (r.ts - T0) / MIN),
    [60, 74, 75],
    'nothing while the Shelly was silent',
  );
  assert.deepEqual(
    [h2[0]!.importWh, h2[0]!.powerW, h2[0]!.voltageV],
    [Math.floor(H2_BASE.importWh) + 12 * 61, 720, 230.4],
  );
  const gw = (mg.ledger.db.prepare("SELECT gateway FROM meters WHERE id = 'h1-grid'").get() as { gateway: string })
    .gateway;
  for (const r of [...h1, ...h2]) {
    assert.ok(r.signature && r.gateway);
    const signer = await recoverReadingSigner({
      type: 'reading',
      meterId: r.meterId,
      ts: new Date(r.ts).toISOString(),
      powerW: r.powerW,
      importWh: r.importWh,
      exportWh: r.exportWh,
      voltageV: r.voltageV,
      frequencyHz: r.frequencyHz,
      quality: r.quality,
      signature: r.signature,
    });
    assert.equal(signer.toLowerCase(), gw.toLowerCase());
  }
});

test('a refused MQTT meter message is counted per device in /metrics (and stores no reading)', async () => {
  const before = readings.length;
  await pub.publish('tele/tasmota_H1/SENSOR', 'not json');
  await waitUntil(
    () => (mg.bridge.health().find((h) => h.deviceId === 'plug-h1')?.rejectedMessages ?? 0) >= 1,
    15_000,
    'the bridge refused the message',
  );
  assert.match(await mg.metrics.render(), /^mgx_device_messages_rejected_total\{device="plug-h1"\} 1$/m);
  assert.doesNotMatch(await mg.metrics.render(), /^mgx_device_messages_rejected_total\{device="em-h2"\}/m);
  assert.equal(readings.length, before);
});
