import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type DeviceHealthEvent, type ReadingEvent } from '../../core/events.js';
import { recoverReadingSigner } from '../../core/reading-typed-data.js';
import { startBridge, type Bridge } from '../../meter-bridge/bridge.js';
import type { BridgeDevice } from '../../meter-bridge/bridge-device.js';
import type { BridgeLogger } from '../../meter-bridge/logger.js';
import { startBroker, type Broker } from '../helpers/mosquitto.js';
import { waitUntil } from './helpers.js';
import { shellyEm, shellyEmData, tasmotaSensor } from './mqtt-meters/payloads.js';
import { startPublisher, type Publisher } from './mqtt-meters/publisher.js';

/**
 * Hostile and broken MQTT meters against the real bridge and a real
 * mosquitto: every bad message is logged (device, topic, field, value),
 * counted, stores no reading; the next good one is taken; the other device
 * never notices. Counter faults go the Modbus way: suspect readings.
 */

const T0 = Date.parse('2026-06-21T10:00:00Z');
const MIN = 60_000;

let broker: Broker;
let pub: Publisher;
before(async () => {
  broker = await startBroker();
  pub = await startPublisher(broker.url);
});
after(async () => {
  await pub?.close();
  await broker?.stop();
});

interface Rig {
  bridge: Bridge;
  clock: ManualClock;
  readings: ReadingEvent[];
  health: DeviceHealthEvent[];
  logs: { level: string; obj: Record<string, unknown>; msg: string }[];
  gateway: string;
}

function rig(devices: BridgeDevice[], env: NodeJS.ProcessEnv = {}): Rig {
  const clock = new ManualClock(T0);
  const bus = new EventBus();
  const readings: ReadingEvent[] = [];
  const health: DeviceHealthEvent[] = [];
  bus.on('reading', (r) => void readings.push(r));
  bus.on('device-health', (h) => void health.push(h));
  const logs: Rig['logs'] = [];
  const log: BridgeLogger = {
    info: (obj, msg) => void logs.push({ level: 'info', obj: obj as Record<string, unknown>, msg: msg ?? '' }),
    warn: (obj, msg) => void logs.push({ level: 'warn', obj: obj as Record<string, unknown>, msg: msg ?? '' }),
    error: (obj, msg) => void logs.push({ level: 'error', obj: obj as Record<string, unknown>, msg: msg ?? '' }),
  };
  const signer = privateKeyToAccount(generatePrivateKey());
  // recordEveryMs 1 s: every reading of these tests is recorded and signed (one per minute of market time).
  const bridge = startBridge({ devices, clock, bus, log, signer, recordEveryMs: 1000, autoStart: false, env });
  return { bridge, clock, readings, health, logs, gateway: signer.address };
}

const tasmota = (topic: string, extra: Partial<BridgeDevice> = {}): BridgeDevice => ({
  id: `t-${topic}`,
  kind: 'tasmota',
  transport: { type: 'mqtt', url: broker.url, topic },
  unitId: 0,
  meterId: `${topic}-grid`,
  ...extra,
});
const shelly = (topic: string): BridgeDevice => ({
  id: `s-${topic}`,
  kind: 'shelly-gen2',
  transport: { type: 'mqtt', url: broker.url, topic },
  unitId: 0,
  meterId: `${topic}-grid`,
});

const statusOf = (r: Rig, id: string): string | undefined => r.bridge.health().find((h) => h.deviceId === id)?.status;

test('bad payloads: logged with device, topic, field and value, counted, no reading; the next good one is taken; the other meter is unaffected', async () => {
  const r = rig([tasmota('hostile-1', { ratedPowerW: 3680 }), shelly('calm-1')]);
  try {
    await pub.publish('tele/hostile-1/LWT', 'Online', true);
    await pub.publish('calm-1/online', 'true', true);
    await waitUntil(
      () => statusOf(r, 't-hostile-1') === 'online' && statusOf(r, 's-calm-1') === 'online',
      10_000,
      'both devices online from their retained availability',
    );

    const huge = `{"ENERGY":{"Total":12.5,"Power":5},"x":"${'A'.repeat(20_000)}"}`;
    const bad: [string, string, unknown][] = [
      ['{"ENERGY":', '(payload)', '{"ENERGY":'],
      ['{"Time":"2026-06-21T12:00:00","SI7021":{"Temperature":21.4}}', 'ENERGY', undefined],
      ['{"ENERGY":{"Total":-3.000,"Power":5}}', 'ENERGY.Total', -3],
      ['{"ENERGY":{"Total":"12.5","Power":5}}', 'ENERGY.Total', '12.5'],
      ['{"ENERGY":{"Total":12.5,"Power":nan}}', '(payload)', '{"ENERGY":{"Total":12.5,"Power":nan}}'],
      ['{"ENERGY":{"Total":12.5,"Power":5,"Voltage":[230,true]}}', 'ENERGY.Voltage[1]', true],
      [huge, '(payload)', `${huge.length} bytes`],
    ];
    let kCalm = 0;
    const calm = async (): Promise<void> => {
      // The calm Shelly keeps metering every minute in between: 600 W, 10 Wh a minute.
      kCalm++;
      await pub.publish('calm-1/status/em:0', shellyEm(600));
      await pub.publish('calm-1/status/emdata:0', shellyEmData(50_000 + 10 * kCalm, 0));
    };
    let t = T0;
    for (const [payload] of bad) {
      t += MIN;
      await r.clock.advanceTo(t);
      await pub.publish('tele/hostile-1/SENSOR', payload);
      await calm();
      await waitUntil(
        () => r.readings.filter((x) => x.meterId === 'calm-1-grid').length === kCalm,
        10_000,
        `calm reading ${kCalm}`,
      );
    }
    await waitUntil(
      () => r.bridge.health().find((h) => h.deviceId === 't-hostile-1')!.rejectedMessages === bad.length,
      10_000,
      'every bad message counted',
    );
    assert.deepEqual(
      r.readings.filter((x) => x.meterId === 'hostile-1-grid'),
      [],
      'no reading from a refused message',
    );
    const lines = r.logs.filter((l) => l.obj.device === 't-hostile-1' && l.level === 'warn');
    assert.deepEqual(
      lines.map((l) => [l.obj.topic, l.obj.field, l.obj.value]),
      bad.map(([, field, value]) => [
        'tele/hostile-1/SENSOR',
        field,
        typeof value === 'string' && value.length > 80 ? value.slice(0, 80) : value,
      ]),
    );
    assert.match(
      lines[2]!.msg,
      /^device t-hostile-1: message on tele\/hostile-1\/SENSOR refused: ENERGY\.Total: tasmota SENSOR message refused; got -3; expected kWh ≥ 0$/,
    );
    assert.match(lines[4]!.msg, /nan or inf/);
    const h = r.bridge.health().find((x) => x.deviceId === 't-hostile-1')!;
    assert.equal(h.status, 'online', 'a device that speaks garbage is not offline');
    assert.equal(h.lastErrorCode, 'METER_PAYLOAD_INVALID');

    // The next good message is taken, exactly.
    t += MIN;
    await r.clock.advanceTo(t);
    await pub.publish(
      'tele/hostile-1/SENSOR',
      tasmotaSensor({ importWh: 12_345_678, exportWh: 1_002, powerW: 850, voltageV: 229.4, frequencyHz: 49.99 }),
    );
    await waitUntil(() => r.readings.some((x) => x.meterId === 'hostile-1-grid'), 10_000, 'the good reading');
    const good = r.readings.find((x) => x.meterId === 'hostile-1-grid')!;
    assert.deepEqual(
      {
        ts: good.ts,
        powerW: good.powerW,
        importWh: good.importWh,
        exportWh: good.exportWh,
        voltageV: good.voltageV,
        frequencyHz: good.frequencyHz,
        quality: good.quality,
      },
      {
        ts: new Date(t).toISOString(),
        powerW: 850,
        importWh: 12_345_678,
        exportWh: 1_002,
        voltageV: 229.4,
        frequencyHz: 49.99,
        quality: 'good',
      },
    );
    assert.ok(good.signature, 'signed');
    assert.equal(
      (await recoverReadingSigner({ ...good, signature: good.signature })).toLowerCase(),
      r.gateway.toLowerCase(),
      'signed by the gateway that received it',
    );
    // The calm meter: every minute's reading, exact, none suspect.
    assert.deepEqual(
      r.readings.filter((x) => x.meterId === 'calm-1-grid').map((x) => [x.importWh, x.powerW, x.quality]),
      Array.from({ length: bad.length }, (_, i) => [50_000 + 10 * (i + 1), 600, 'good']),
    );
  } finally {
    await r.bridge.stop();
  }
});

test('counter faults go the Modbus way: backwards and beyond rated power are suspect readings with their reason', async () => {
  const r = rig([tasmota('faulty-1', { ratedPowerW: 3000 })]);
  try {
    await pub.publish('tele/faulty-1/LWT', 'Online', true);
    await waitUntil(() => statusOf(r, 't-faulty-1') === 'online', 10_000, 'online');
    // Minute by minute: +40 Wh (2.4 kW, fine), −500 Wh (backwards), +40, then +200 Wh in one minute (12 kW on a 3 kW
    // meter).
    const steps = [1_000_000, 1_000_040, 999_540, 999_580, 999_780];
    for (const [i, importWh] of steps.entries()) {
      await r.clock.advanceTo(T0 + (i + 1) * MIN);
      await pub.publish('tele/faulty-1/SENSOR', tasmotaSensor({ importWh, powerW: 2400 }));
      await waitUntil(() => r.readings.length === i + 1, 10_000, `reading ${i + 1}`);
    }
    assert.deepEqual(
      r.readings.map((x) => [x.importWh, x.quality, x.reasons ?? []]),
      [
        [1_000_000, 'good', []],
        [1_000_040, 'good', []],
        [999_540, 'suspect', ['importWh-backwards']],
        [999_580, 'good', []],
        [999_780, 'suspect', ['importWh-jump']],
      ],
    );
  } finally {
    await r.bridge.stop();
  }
});

test('availability: LWT Offline / Shelly online false make the device offline, Online makes it online; a dead broker makes it stale', async () => {
  const own = await startBroker();
  const p = await startPublisher(own.url);
  const devices: BridgeDevice[] = [
    { id: 'plug', kind: 'tasmota', transport: { type: 'mqtt', url: own.url, topic: 'plug' }, unitId: 0 },
    { id: 'em', kind: 'shelly-gen2', transport: { type: 'mqtt', url: own.url, topic: 'em' }, unitId: 0 },
  ];
  const r = rig(devices);
  try {
    await p.publish('tele/plug/LWT', 'Online', true);
    await p.publish('em/online', 'true', true);
    await waitUntil(() => statusOf(r, 'plug') === 'online' && statusOf(r, 'em') === 'online', 10_000, 'online');
    await p.publish('tele/plug/LWT', 'Offline', true);
    await p.publish('em/online', 'false', true);
    await waitUntil(() => statusOf(r, 'plug') === 'offline' && statusOf(r, 'em') === 'offline', 10_000, 'offline');
    assert.equal(
      r.bridge.health().find((h) => h.deviceId === 'plug')!.lastError,
      'the device said offline on tele/plug/LWT',
    );
    await p.publish('tele/plug/LWT', 'Online', true);
    await waitUntil(() => statusOf(r, 'plug') === 'online', 10_000, 'back online');
    assert.deepEqual(
      r.health.filter((h) => h.deviceId === 'plug').map((h) => h.status),
      ['online', 'offline', 'online'],
    );
    // The broker dies: the bridge cannot know the devices, they are stale with the reason; the broker comes back:
    // retained availability restores them.
    await p.close();
    await own.stop();
    await waitUntil(() => statusOf(r, 'plug') === 'stale', 10_000, 'stale after the broker died');
    assert.match(
      r.bridge.health().find((h) => h.deviceId === 'plug')!.lastError ?? '',
      new RegExp(`broker ${own.url.replace(/[/.]/g, '\\$&')}`),
    );
    await own.restart();
    await waitUntil(
      () => statusOf(r, 'plug') === 'online' && statusOf(r, 'em') === 'offline',
      15_000,
      'retained availability after the reconnect',
    );
  } finally {
    await r.bridge.stop();
    await own.stop();
  }
});

test('a broker with users: the device password from { env } logs in; a wrong one leaves the device stale, saying why', async () => {
  const own = await startBroker({ users: { bridge: 'right-password', script: 'script-pw' } });
  const p = await startPublisher(own.url, { username: 'script', password: 'script-pw' });
  const dev = (id: string): BridgeDevice => ({
    id,
    kind: 'tasmota',
    transport: { type: 'mqtt', url: own.url, topic: id, username: 'bridge', password: { env: 'PLUG_PW' } },
    unitId: 0,
  });
  const ok = rig([dev('authed')], { PLUG_PW: 'right-password' });
  const bad = rig([dev('refused')], { PLUG_PW: 'wrong' });
  try {
    await p.publish('tele/authed/LWT', 'Online', true);
    await p.publish('tele/refused/LWT', 'Online', true);
    await waitUntil(() => statusOf(ok, 'authed') === 'online', 10_000, 'the right password logs in');
    await waitUntil(
      () => /Not authorized|Bad User ?Name or Password/i.test(bad.bridge.health()[0]!.lastError ?? ''),
      10_000,
      'the refusal named',
    );
    assert.equal(statusOf(bad, 'refused'), 'stale');
    assert.throws(
      () => rig([dev('nopw')], {}),
      (e: Error & { code?: string; field?: string }) =>
        e.code === 'SECRET_MISSING' && e.field === 'bridge.devices[0].transport.password',
    );
  } finally {
    await ok.bridge.stop();
    await bad.bridge.stop();
    await p.close();
    await own.stop();
  }
});

test('a flood and a 1 MB message: one reading per poll period is taken (the rest counted as dropped); the broker never hands over the huge one; the next good message is taken', async () => {
  const r = rig([tasmota('flood-1')]);
  try {
    await pub.publish('tele/flood-1/LWT', 'Online', true);
    await waitUntil(() => statusOf(r, 't-flood-1') === 'online', 10_000, 'online');
    await r.clock.advanceTo(T0 + MIN);
    // 50 messages within one instant of market time: a misconfigured device or an attacker on its topic.
    for (let i = 0; i < 50; i++)
      await pub.publish('tele/flood-1/SENSOR', tasmotaSensor({ importWh: 500_000 + i, powerW: 100 }));
    await waitUntil(() => r.bridge.health()[0]!.droppedMessages === 49, 10_000, '49 dropped');
    assert.deepEqual(
      r.readings.map((x) => x.importWh),
      [500_000],
    );
    // 1 MB: above the 64 KiB maximum packet size the bridge's MQTT 5 session announced, so mosquitto does not send it.
    await pub.publish('tele/flood-1/SENSOR', `{"ENERGY":{"Total":1,"Power":1},"x":"${'z'.repeat(1024 * 1024)}"}`);
    await r.clock.advanceTo(T0 + 2 * MIN);
    await pub.publish('tele/flood-1/SENSOR', tasmotaSensor({ importWh: 500_100, powerW: 100 }));
    await waitUntil(() => r.readings.length === 2, 10_000, 'the next good reading');
    assert.deepEqual(
      r.readings.map((x) => [x.importWh, x.quality]),
      [
        [500_000, 'good'],
        [500_100, 'good'],
      ],
    );
    const h = r.bridge.health()[0]!;
    assert.deepEqual([h.status, h.rejectedMessages, h.droppedMessages], ['online', 0, 49]);
  } finally {
    await r.bridge.stop();
  }
});
