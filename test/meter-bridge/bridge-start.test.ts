import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type DeviceHealthEvent, type ReadingEvent } from '../../core/events.js';
import { startBridge } from '../../meter-bridge/bridge.js';
import type { BridgeDevice } from '../../meter-bridge/bridge-device.js';
import type { CycleStats } from '../../meter-bridge/poll-cycle.js';
import {
  startRegisterServer,
  ModbusException,
  type RegisterServer,
} from '../../meter-bridge/simulators/register-server.js';
import { SunSpecImage } from '../../meter-bridge/simulators/sunspec-image.js';
import { BusPool } from '../../meter-bridge/transport/bus-pool.js';
import { startProcess, waitUntil } from './helpers.js';

/**
 * The bridge's start and its timeouts under a stalled event loop, the two
 * causes of late cycles found with `npm run bench:bridge -- --trace`:
 *   - connecting and discovering inside the first cycle made it overrun, and
 *     a device still discovering was skipped (counted as missed) by the next
 *     cycles, which could mark it offline before its first reading;
 *   - a reply that arrived while the bridge's own event loop was blocked past
 *     the request timeout was declared a timeout (timers run before sockets
 *     are read), then retried, so the poll overran its cycle.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A SunSpec inverter + meter. `firstAnswer` holds the answer to the "SunS"
 * marker read (discovery only, never a poll) until it resolves; a number
 * delays it by that many ms.
 */
async function sunspecDevice(firstAnswer: number | Promise<void>): Promise<RegisterServer> {
  const image = new SunSpecImage([
    { id: 1, values: { Mn: 'test', Md: 'slow start', SN: 'S1', Vr: '1' } },
    {
      id: 103,
      values: { W_SF: 0, Hz_SF: -2, V_SF: -1, A_SF: -2, WH_SF: 0, W: 1200, Hz: 5000, PhVphA: 2300, WH: 5000 },
    },
    {
      id: 203,
      values: {
        W_SF: 0,
        Hz_SF: -2,
        V_SF: -1,
        A_SF: -2,
        TotWh_SF: 0,
        W: -700,
        Hz: 5000,
        PhV: 2300,
        PhVphA: 2300,
        TotWhImp: 1000,
        TotWhExp: 2000,
      },
    },
  ]);
  return startRegisterServer(async (_unit, _fc, addr, count) => {
    if (addr === 40000) await (typeof firstAnswer === 'number' ? sleep(firstAnswer) : firstAnswer);
    const r = image.read(addr, count);
    if (!r) throw new ModbusException(2);
    return r;
  });
}

test(
  'a device slow to discover is set up outside the cycles: no cycle waits for it, none skips it, it is not marked offline',
  { timeout: 60_000 },
  async () => {
    // The slow device's discovery is held until the test has seen cycles finish
    // while it was held: events, not a race between a delay and the machine's load.
    let answer!: () => void;
    const held = new Promise<void>((r) => (answer = r));
    const slow = await sunspecDevice(held);
    const fast = await sunspecDevice(0);
    const devices: BridgeDevice[] = [
      {
        id: 'slow',
        kind: 'sunspec',
        transport: { type: 'tcp', host: '127.0.0.1', port: slow.port },
        unitId: 1,
        meters: { grid: 'slow-grid', pv: 'slow-pv' },
      },
      {
        id: 'fast',
        kind: 'sunspec',
        transport: { type: 'tcp', host: '127.0.0.1', port: fast.port },
        unitId: 1,
        meters: { grid: 'fast-grid', pv: 'fast-pv' },
      },
    ];
    const bus = new EventBus();
    const readings: ReadingEvent[] = [];
    const health: DeviceHealthEvent[] = [];
    bus.on('reading', (r) => readings.push(r));
    bus.on('device-health', (h) => health.push(h));
    // A request timeout far above the hold: the device is slow, not dead.
    const bridge = startBridge({
      devices,
      clock: new ManualClock(Date.UTC(2026, 10, 21)),
      bus,
      pollIntervalMs: 1000,
      transport: { timeoutMs: 40_000, retries: 0 },
    });
    const cycles: CycleStats[] = [];
    let released = false;
    const whileHeld: CycleStats[] = [];
    bridge.onCycle = (c) => {
      cycles.push(c);
      if (!released) whileHeld.push(c);
    };
    try {
      // Under load the fast device's own discovery can outlast the first cycle, so
      // wait for two cycles that polled it, not for any two cycles.
      const polledFast = () => whileHeld.filter((c) => c.settingUp === 1 && c.polled === 1).length;
      await waitUntil(
        () => polledFast() >= 2 && readings.some((r) => r.meterId === 'fast-grid'),
        30_000,
        'two cycles that polled the fast device while the slow one is discovered',
      );
      released = true;
      answer();
      await waitUntil(
        () => readings.filter((r) => r.meterId === 'slow-grid').length >= 2,
        20_000,
        'two readings of the slow device',
      );
      // Those cycles finished while the slow device's discovery could not have: none waited for it.
      // Each counted the slow device as setting up (not skipped, not polled); the fast one was
      // polled, skipped only while its own previous poll still ran, or still setting up itself
      // (only before its first poll: a device set up once is not set up again).
      let fastSetUp = false;
      for (const c of whileHeld) {
        assert.ok(c.settingUp >= 1, JSON.stringify(c));
        assert.equal(c.settingUp + c.polled + c.skipped, 2, JSON.stringify(c));
        if (c.settingUp === 1) fastSetUp = true;
        else assert.equal(fastSetUp, false, `the fast device set up again: ${JSON.stringify(c)}`);
      }
      assert.deepEqual(
        health.filter((h) => h.deviceId === 'slow' && h.status === 'offline'),
        [],
        'the slow device was never offline',
      );
      assert.equal(bridge.health().find((h) => h.deviceId === 'slow')!.status, 'online');
    } finally {
      answer();
      await bridge.stop();
      await slow.close();
      await fast.close();
    }
  },
);

test(
  'pollOnce sets devices up first (at most setupConcurrency at a time), then reads each once',
  { timeout: 30_000 },
  async () => {
    const servers = await Promise.all(Array.from({ length: 6 }, () => sunspecDevice(150)));
    const devices: BridgeDevice[] = servers.map((s, i) => ({
      id: `d${i}`,
      kind: 'sunspec',
      transport: { type: 'tcp', host: '127.0.0.1', port: s.port },
      unitId: 1,
    }));
    const bus = new EventBus();
    const readings: ReadingEvent[] = [];
    bus.on('reading', (r) => readings.push(r));
    const bridge = startBridge({
      devices,
      clock: new ManualClock(Date.UTC(2026, 10, 21)),
      bus,
      autoStart: false,
      setupConcurrency: 2,
      transport: { timeoutMs: 3000, retries: 0 },
    });
    try {
      const t0 = Date.now();
      const c = await bridge.pollOnce();
      const took = Date.now() - t0;
      assert.deepEqual(
        { polled: c.polled, skipped: c.skipped, settingUp: c.settingUp },
        { polled: 6, skipped: 0, settingUp: 0 },
      );
      assert.equal(readings.length, 6);
      // Six 150 ms first answers, two at a time: three rounds, not one.
      assert.ok(took >= 3 * 150, `set-ups ran more than two at a time (${took} ms)`);
    } finally {
      await bridge.stop();
      await Promise.all(servers.map((s) => s.close()));
    }
  },
);

test(
  'a reply that arrived while the event loop was blocked past the timeout is taken, not timed out',
  { timeout: 30_000 },
  async () => {
    // The device must answer while this process is blocked: it runs in another process.
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    const sim = fileURLToPath(new URL('../../meter-bridge/bench/sim-process.ts', import.meta.url));
    const child = await startProcess(tsx, [sim, '1', '0'], /"ports"/, 20_000);
    const port = (
      JSON.parse(
        child
          .output()
          .split('\n')
          .find((l) => l.includes('"ports"'))!,
      ) as { ports: number[] }
    ).ports[0]!;
    const pool = new BusPool({ timeoutMs: 200, retries: 0 });
    const bus = pool.get({ type: 'tcp', host: '127.0.0.1', port });
    try {
      assert.deepEqual(await bus.read({ unitId: 1, fc: 3, address: 40000, count: 2 }), [0x5375, 0x6e53]);
      for (let i = 0; i < 3; i++) {
        const reply = bus.read({ unitId: 1, fc: 3, address: 40000, count: 2 });
        // Let the request go out (microtasks only: no socket is read meanwhile),
        // then block this process for twice the timeout, as a long GC or a
        // starved CPU does: the reply waits in the socket while the timeout expires.
        for (let k = 0; k < 20; k++) await Promise.resolve();
        const until = Date.now() + 400;
        while (Date.now() < until) {
          // stalled
        }
        assert.deepEqual(await reply, [0x5375, 0x6e53]);
      }
      assert.equal(bus.stats.timeouts, 0);
      // (A device that does not answer still times out: misbehaviour.test.ts, the hanging meter.)
    } finally {
      await pool.close();
      await child.stop();
    }
  },
);
