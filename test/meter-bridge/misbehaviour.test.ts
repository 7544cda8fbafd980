import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type DeviceHealthEvent, type ReadingEvent } from '../../core/events.js';
import { startBridge } from '../../meter-bridge/bridge.js';
import type { BridgeDevice } from '../../meter-bridge/bridge-device.js';
import { loadProfile } from '../../meter-bridge/profiles/load.js';
import { startMisbehavingMeter, type MisbehavingMeter } from '../../meter-bridge/simulators/misbehaving-meter.js';
import { startProfileMeter } from '../../meter-bridge/simulators/profile-meter.js';

/**
 * Every way a device misbehaves, each with the exact reading the bridge must
 * produce. Market time is a ManualClock (fixed timestamps); the devices are
 * real Modbus TCP servers on loopback.
 */

const T0 = Date.UTC(2026, 10, 21, 22, 0, 0);

function harness(devices: BridgeDevice[], transport = { timeoutMs: 150, retries: 1 }) {
  const clock = new ManualClock(T0);
  const bus = new EventBus();
  const readings: ReadingEvent[] = [];
  const health: DeviceHealthEvent[] = [];
  bus.on('reading', (r) => readings.push(r));
  bus.on('device-health', (h) => health.push(h));
  const bridge = startBridge({
    devices,
    clock,
    bus,
    autoStart: false,
    transport: { ...transport, reconnectMinMs: 20, reconnectMaxMs: 100 },
  });
  /** One cycle one second later in market time; returns the readings it produced. */
  const cycle = async (): Promise<ReadingEvent[]> => {
    await clock.advanceBy(1000);
    const n = readings.length;
    await bridge.pollOnce();
    return readings.slice(n);
  };
  return { clock, bus, readings, health, bridge, cycle };
}

const sunspecDevice = (m: MisbehavingMeter, id = 'meter-1'): BridgeDevice => ({
  id,
  kind: 'sunspec',
  transport: { type: 'tcp', host: '127.0.0.1', port: m.port },
  unitId: 1,
});

const base = { type: 'reading' as const, meterId: 'meter-1' };
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

test('night: "not implemented" sentinels become null, never 0 or 65535', async () => {
  const m = await startMisbehavingMeter();
  const h = harness([sunspecDevice(m)]);
  try {
    assert.deepEqual(await h.cycle(), [
      {
        ...base,
        ts: at(1),
        powerW: 500,
        importWh: 10_000,
        exportWh: 2_000,
        voltageV: 230,
        frequencyHz: 50,
        quality: 'good',
      },
    ]);
    m.nightSentinels();
    assert.deepEqual(await h.cycle(), [
      {
        ...base,
        ts: at(2),
        powerW: null,
        importWh: 10_000,
        exportWh: 2_000,
        voltageV: null,
        frequencyHz: null,
        quality: 'good',
      },
    ]);
    // An acc32 counter of 0 is SunSpec's "not implemented" too.
    m.resetCounters(10_000, 0);
    assert.deepEqual(await h.cycle(), [
      {
        ...base,
        ts: at(3),
        powerW: null,
        importWh: 10_000,
        exportWh: null,
        voltageV: null,
        frequencyHz: null,
        quality: 'good',
      },
    ]);
  } finally {
    await h.bridge.stop();
    await m.close();
  }
});

test('a scale factor that changes between cycles is applied to the values read with it', async () => {
  const m = await startMisbehavingMeter();
  const h = harness([sunspecDevice(m)]);
  try {
    m.image.set(203, 'W', 2000);
    assert.deepEqual(await h.cycle(), [
      {
        ...base,
        ts: at(1),
        powerW: 2000,
        importWh: 10_000,
        exportWh: 2_000,
        voltageV: 230,
        frequencyHz: 50,
        quality: 'good',
      },
    ]);
    // The device changes range: W ×100, energy ×10. Same physical values (+ 10 Wh imported).
    m.image.set(203, 'W', 25);
    m.image.set(203, 'W_SF', 2);
    m.image.set(203, 'TotWhImp', 1001);
    m.image.set(203, 'TotWhExp', 200);
    m.image.set(203, 'TotWh_SF', 1);
    assert.deepEqual(await h.cycle(), [
      {
        ...base,
        ts: at(2),
        powerW: 2500,
        importWh: 10_010,
        exportWh: 2_000,
        voltageV: 230,
        frequencyHz: 50,
        quality: 'good',
      },
    ]);
    // A scale factor outside -10..10 is garbage: the values it scales are null.
    m.image.set(203, 'W_SF', 0x7fff);
    const [r] = await h.cycle();
    assert.equal(r!.powerW, null);
    assert.equal(r!.importWh, 10_010);
    assert.equal(h.bridge.readers[0]!.requestsPerRead, 1, 'values and their scale factors in one request');
  } finally {
    await h.bridge.stop();
    await m.close();
  }
});

test('a counter reset is flagged suspect with the reason, and the new value is the baseline after it', async () => {
  const m = await startMisbehavingMeter();
  const h = harness([sunspecDevice(m)]);
  try {
    await h.cycle();
    m.resetCounters(5, 3);
    assert.deepEqual(await h.cycle(), [
      {
        ...base,
        ts: at(2),
        powerW: 500,
        importWh: 5,
        exportWh: 3,
        voltageV: 230,
        frequencyHz: 50,
        quality: 'suspect',
        reasons: ['importWh-backwards', 'exportWh-backwards'],
      },
    ]);
    m.resetCounters(6, 3);
    assert.deepEqual(await h.cycle(), [
      { ...base, ts: at(3), powerW: 500, importWh: 6, exportWh: 3, voltageV: 230, frequencyHz: 50, quality: 'good' },
    ]);
    // A jump beyond rated power × the time since the counter last moved (24.15 kW default for 1 s ≈ 7 Wh, + 10 Wh
    // slack) is suspect too.
    m.resetCounters(5_006, 3);
    const [j] = await h.cycle();
    assert.equal(j!.quality, 'suspect');
    assert.deepEqual(j!.reasons, ['importWh-jump']);
  } finally {
    await h.bridge.stop();
    await m.close();
  }
});

test('acc32 rollover is counted on, not flagged', async () => {
  const m = await startMisbehavingMeter();
  const h = harness([sunspecDevice(m)]);
  try {
    m.resetCounters(2 ** 32 - 5, 3);
    await h.cycle();
    m.resetCounters(10, 3); // wrapped: +15 Wh
    const [r] = await h.cycle();
    assert.equal(r!.importWh, 2 ** 32 + 10);
    assert.equal(r!.quality, 'good');
  } finally {
    await h.bridge.stop();
    await m.close();
  }
});

test('frozen counters while power flows are flagged', async () => {
  const m = await startMisbehavingMeter();
  const h = harness([sunspecDevice(m)]);
  try {
    m.image.set(203, 'W', 20_000); // 20 kW; the counter stays put
    await h.cycle();
    let last: ReadingEvent | undefined;
    // Judged on market time: after 9 minutes (3 kWh expected) not yet, after 10 it is frozen.
    for (let i = 0; i < 9; i++) {
      await h.clock.advanceBy(60_000);
      [last] = await h.cycle();
    }
    assert.equal(last!.quality, 'good');
    await h.clock.advanceBy(60_000);
    [last] = await h.cycle();
    assert.equal(last!.quality, 'suspect');
    assert.deepEqual(last!.reasons, ['importWh-frozen']);
  } finally {
    await h.bridge.stop();
    await m.close();
  }
});

test('exception 2 for an optional register: the value is null, the rest is read, later cycles skip it', async () => {
  const profile = loadProfile('sdm630');
  const meter = await startProfileMeter(
    profile,
    { powerW: 1500, importWh: 123_456, exportWh: 789, voltageV: 231.2, frequencyHz: 50 },
    { unsupported: ['frequencyHz'] },
  );
  const h = harness([
    {
      id: 'sdm',
      kind: 'profile',
      profile: 'sdm630',
      transport: { type: 'tcp', host: '127.0.0.1', port: meter.port },
      unitId: 1,
    },
  ]);
  try {
    const expected = {
      type: 'reading' as const,
      meterId: 'sdm',
      powerW: 1500,
      importWh: 123_456,
      exportWh: 789,
      voltageV: 231.2,
      frequencyHz: null,
      quality: 'good' as const,
    };
    assert.deepEqual(await h.cycle(), [{ ...expected, ts: at(1) }]);
    assert.deepEqual(h.bridge.readers[0]!.describe().unsupported, ['frequencyHz']);
    assert.deepEqual(await h.cycle(), [{ ...expected, ts: at(2) }]);
    assert.equal(h.bridge.health()[0]!.status, 'online');
  } finally {
    await h.bridge.stop();
    await meter.close();
  }
});

test('Carlo Gavazzi EM24: low word first, ×10', async () => {
  const profile = loadProfile('em24');
  const meter = await startProfileMeter(profile, {
    powerW: -3456.7,
    importWh: 9_876_500,
    exportWh: 1_234_500,
    voltageV: 229.8,
    frequencyHz: 49.9,
  });
  const h = harness([
    {
      id: 'em24',
      kind: 'profile',
      profile,
      transport: { type: 'tcp', host: '127.0.0.1', port: meter.port },
      unitId: 1,
    },
  ]);
  try {
    assert.deepEqual(await h.cycle(), [
      {
        type: 'reading',
        meterId: 'em24',
        ts: at(1),
        powerW: -3457,
        importWh: 9_876_500,
        exportWh: 1_234_500,
        voltageV: 229.8,
        frequencyHz: 49.9,
        quality: 'good',
      },
    ]);
  } finally {
    await h.bridge.stop();
    await meter.close();
  }
});

test('a device that hangs is offline within three cycles and comes back by itself', async () => {
  const m = await startMisbehavingMeter();
  const h = harness([sunspecDevice(m)]);
  try {
    await h.cycle();
    assert.equal(h.bridge.health()[0]!.status, 'online');
    m.setMode({ kind: 'hang' });
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await h.cycle(), [], 'no reading from a hanging device');
      statuses.push(h.bridge.health()[0]!.status);
    }
    assert.deepEqual(statuses, ['stale', 'stale', 'offline']);
    const hs = h.bridge.health()[0]!;
    assert.equal(hs.lastErrorCode, 'MODBUS_TIMEOUT');
    assert.match(hs.lastError!, /no answer within 150 ms/);
    assert.deepEqual(
      h.health.map((e) => e.status),
      ['online', 'stale', 'offline'],
    );
    m.setMode({ kind: 'normal' });
    assert.deepEqual(await h.cycle(), [
      {
        ...base,
        ts: at(5),
        powerW: 500,
        importWh: 10_000,
        exportWh: 2_000,
        voltageV: 230,
        frequencyHz: 50,
        quality: 'good',
      },
    ]);
    assert.equal(h.bridge.health()[0]!.status, 'online');
    assert.equal(h.health.at(-1)!.status, 'online');
  } finally {
    await h.bridge.stop();
    await m.close();
  }
});

test('a reply that arrives late is never matched to the newer request', async () => {
  const m = await startMisbehavingMeter();
  const h = harness([sunspecDevice(m)], { timeoutMs: 300, retries: 1 });
  try {
    await h.cycle(); // discovery done, connection up
    m.image.set(203, 'W', 111);
    // First attempt: answered 400 ms late with W = 111 (after the 300 ms timeout,
    // while the retry, sent at ~310–330 ms, is in flight). Retry: answered after
    // 200 ms with W = 222.
    m.queue({ kind: 'delay', ms: 400 }, { kind: 'delay', ms: 200 });
    m.onRequest = (n) => {
      if (m.requests === n) m.image.set(203, 'W', 222);
    };
    const [r] = await h.cycle();
    m.onRequest = null;
    assert.ok(r, `a reading (health: ${JSON.stringify(h.bridge.health()[0])})`);
    assert.equal(r.powerW, 222);
    // The late reply lands during the next cycles: still never taken for a newer request.
    for (let i = 0; i < 3; i++) {
      const [x] = await h.cycle();
      assert.equal(x!.powerW, 222);
    }
  } finally {
    await h.bridge.stop();
    await m.close();
  }
});

test('garbage replies are errors with the device named, and the device recovers', async () => {
  const m = await startMisbehavingMeter();
  const h = harness([sunspecDevice(m)]);
  try {
    await h.cycle();
    m.setMode({ kind: 'garbage' });
    assert.deepEqual(await h.cycle(), []);
    const hs = h.bridge.health()[0]!;
    assert.equal(hs.status, 'stale');
    assert.equal(hs.lastErrorCode, 'MODBUS_BAD_REPLY');
    assert.match(hs.lastError!, /tcp:\/\/127\.0\.0\.1:\d+ unit 1 fc 3/);
    m.setMode({ kind: 'exception', code: 4 });
    assert.deepEqual(await h.cycle(), []);
    assert.equal(h.bridge.health()[0]!.lastErrorCode, 'MODBUS_EXCEPTION');
    m.setMode({ kind: 'normal' });
    const [r] = await h.cycle();
    assert.equal(r!.powerW, 500);
    assert.equal(h.bridge.health()[0]!.status, 'online');
  } finally {
    await h.bridge.stop();
    await m.close();
  }
});

test('a device whose server goes away is offline within three cycles, reconnects with backoff and comes back', async () => {
  let m = await startMisbehavingMeter();
  const port = m.port;
  const h = harness([sunspecDevice(m)]);
  try {
    await h.cycle();
    await m.close();
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await h.cycle(), []);
      statuses.push(h.bridge.health()[0]!.status);
    }
    assert.deepEqual(statuses, ['stale', 'stale', 'offline']);
    assert.equal(h.bridge.health()[0]!.lastErrorCode, 'MODBUS_CONNECT');
    m = await startMisbehavingMeter({ port });
    // Reconnect backoff (20–100 ms here) may refuse a cycle or two before the next attempt.
    let r: ReadingEvent[] = [];
    for (let i = 0; i < 20 && r.length === 0; i++) {
      await new Promise((res) => setTimeout(res, 30));
      r = await h.cycle();
    }
    assert.equal(r[0]?.powerW, 500);
    assert.equal(h.bridge.health()[0]!.status, 'online');
    assert.ok(h.bridge.busStats().reconnects >= 2);
  } finally {
    await h.bridge.stop();
    await m.close();
  }
});
