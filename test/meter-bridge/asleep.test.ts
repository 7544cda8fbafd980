import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBridge } from '../../meter-bridge/bridge.js';
import { SunSpecImage } from '../../meter-bridge/simulators/sunspec-image.js';
import { startRegisterServer, ModbusException } from '../../meter-bridge/simulators/register-server.js';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type AlarmEvent, type DeviceHealthEvent } from '../../core/events.js';
import { raiseOperationalAlarms } from '../../app/alarms.js';
import { applyEvent, currentAlarms } from '../../dashboard/live/model.js';

const T0 = Date.parse('2026-06-21T21:00:00Z');

test('an inverter that reports it sleeps (St = SLEEPING) is asleep, not offline; waking ends nothing, a return ends the offline alarm', async () => {
  const image = new SunSpecImage([
    { id: 1, values: { Mn: 'Night', Md: 'INV103', SN: 'N-1', Vr: '1' } },
    {
      id: 103,
      values: { W: 1500, W_SF: 0, WH: 4_000_000, WH_SF: 0, Hz: 5000, Hz_SF: -2, PhVphA: 2300, V_SF: -1, St: 4 },
    },
  ]);
  let down = false;
  const server = await startRegisterServer((_u, _fc, address, count) => {
    if (down) throw new ModbusException(11);
    const r = image.read(address, count);
    if (!r) throw new ModbusException(2);
    return r;
  });
  const clock = new ManualClock(T0);
  const bus = new EventBus();
  const health: DeviceHealthEvent[] = [];
  const alarms: AlarmEvent[] = [];
  bus.on('device-health', (h) => health.push(h));
  bus.on('alarm', (a) => alarms.push(a));
  const stopAlarms = raiseOperationalAlarms(bus, clock);
  const bridge = startBridge({
    devices: [
      {
        id: 'inv-1',
        kind: 'sunspec',
        transport: { type: 'tcp', host: '127.0.0.1', port: server.port },
        unitId: 1,
        meters: { pv: 'h01-pv' },
      },
    ],
    clock,
    bus,
    autoStart: false,
    offlineAfterCycles: 1,
    transport: { timeoutMs: 200, retries: 0, reconnectMinMs: 20, reconnectMaxMs: 100 },
  });
  const cycle = async () => {
    await clock.advanceBy(60_000);
    await bridge.pollOnce();
  };
  try {
    await cycle();
    assert.equal(health.at(-1)?.status, 'online');
    image.set(103, 'St', 2); // SLEEPING
    image.set(103, 'W', 0);
    await cycle();
    assert.equal(health.at(-1)?.status, 'asleep');
    assert.equal(alarms.length, 0, 'sleeping is no alarm');
    down = true;
    await cycle();
    assert.equal(health.at(-1)?.status, 'offline');
    down = false;
    await cycle();
    assert.equal(health.at(-1)?.status, 'asleep');
    assert.deepEqual(
      alarms.map((a) => [a.code, a.clears ?? null]),
      [
        ['DEVICE_OFFLINE', null],
        ['DEVICE_ONLINE', 'DEVICE_OFFLINE'],
      ],
    );
    // The live view: the offline alarm is history once cleared (kept newest first, marked); only the chain's is in
    // force.
    const s = { alarms: [], devices: {}, settlements: [], lastMetered: null } as unknown as Parameters<
      typeof applyEvent
    >[0];
    const chain: AlarmEvent = {
      type: 'alarm',
      severity: 'critical',
      code: 'CHAIN_UNAVAILABLE',
      subject: 'chain',
      message: 'down',
      at: new Date(T0).toISOString(),
    };
    applyEvent(s, chain);
    for (const a of alarms) applyEvent(s, a);
    assert.deepEqual(
      s.alarms.map((a) => [a.code, a.clearedAt !== undefined]),
      [
        ['DEVICE_ONLINE', false],
        ['DEVICE_OFFLINE', true],
        ['CHAIN_UNAVAILABLE', false],
      ],
    );
    assert.deepEqual(
      currentAlarms(s).map((a) => a.code),
      ['CHAIN_UNAVAILABLE'],
    );
  } finally {
    stopAlarms();
    await bridge.stop();
    await server.close();
  }
});
