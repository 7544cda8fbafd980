import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type DeviceHealthEvent } from '../../core/events.js';
import { demoConfig } from '../../core/config/demo.js';
import { openLedger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { insertReadings, listReadingsBefore, upsertIntervalEnergy } from '../../ledger/readings.js';
import { recoverReadingSigner } from '../../core/reading-typed-data.js';
import { startBridge } from '../../meter-bridge/bridge.js';
import { startDemoDevices } from '../../meter-bridge/config.js';
import { createStoreSink } from '../../meter-bridge/sinks/store-sink.js';
import { tempDir } from '../helpers/tmp.js';
import { join } from 'node:path';

/**
 * The demo path end to end: 12 simulated households (as the demo config
 * describes them) on loopback, the bridge reading them over Modbus TCP each
 * market minute for an hour around noon, signed readings into the ledger,
 * interval energy from them — and the energy equals what the simulators'
 * own counters moved.
 */
test('12 simulated households, one market hour: interval energy = simulator counter deltas', async () => {
  const T0 = Date.UTC(2026, 5, 21, 11, 0, 0);
  const MIN15 = 15 * 60_000;
  const clock = new ManualClock(T0);
  const config = demoConfig(12);
  const ledger = openLedger(join(tempDir('mgx-day-'), 'ledger.db'));
  for (const p of config.participants) upsertParticipant(ledger, p, T0);
  const demo = await startDemoDevices(config, clock);
  const gw = privateKeyToAccount(generatePrivateKey());
  const bus = new EventBus();
  const health: DeviceHealthEvent[] = [];
  bus.on('device-health', (h) => health.push(h));
  const bridge = startBridge({
    devices: demo.devices,
    clock,
    bus,
    signer: gw,
    recordEveryMs: 60_000,
    sinks: [createStoreSink({ insertReadings: (rs) => insertReadings(ledger, rs, clock.now()) })],
    autoStart: false,
  });
  try {
    assert.equal(demo.devices.length, 12);
    const start = demo.households.map((h) => h.state());
    for (let m = 0; m <= 60; m++) {
      await bridge.pollOnce();
      if (m < 60) await clock.advanceBy(60_000);
    }
    const end = demo.households.map((h) => h.state());
    // Households with PV: inverter + meter = 2 requests per cycle; without: the meter, 1.
    assert.deepEqual(
      bridge.health().map((h) => [h.status, h.requestsPerRead]),
      config.participants.map((p) => ['online', p.meters.some((m) => m.role === 'pv') ? 2 : 1]),
    );
    assert.equal(health.filter((h) => h.status === 'online').length, 12);
    // The first poll happened at T0 before the clock moved: state() at start is that poll's state.
    const rows = [0, 1, 2, 3].flatMap((i) => upsertIntervalEnergy(ledger, T0 + i * MIN15, T0 + (i + 1) * MIN15));
    for (const [i, p] of config.participants.entries()) {
      const grid = rows.filter((r) => r.meterId === `${p.id}-grid`);
      assert.ok(
        grid.every((r) => r.quality === 'good'),
        JSON.stringify(grid),
      );
      assert.equal(
        grid.reduce((s, r) => s + r.importWh, 0),
        end[i]!.importWh - start[i]!.importWh,
        `${p.id} import`,
      );
      assert.equal(
        grid.reduce((s, r) => s + r.exportWh, 0),
        end[i]!.exportWh - start[i]!.exportWh,
        `${p.id} export`,
      );
      const pv = rows.filter((r) => r.meterId === `${p.id}-pv`);
      if (p.meters.some((m) => m.role === 'pv')) {
        assert.equal(
          pv.reduce((s, r) => s + r.exportWh, 0),
          end[i]!.pvWh - start[i]!.pvWh,
          `${p.id} pv`,
        );
        assert.ok(
          pv.every((r) => r.exportWh > 500),
          'around noon every PV meter exports',
        );
      }
    }
    // Every stored reading carries a signature that recovers to the gateway.
    const sample = listReadingsBefore(ledger, 'h01-grid', T0, T0 + 3_600_001);
    assert.equal(sample.length, 61);
    for (const r of sample.slice(0, 3)) {
      const back = await recoverReadingSigner({
        type: 'reading',
        meterId: r.meterId,
        ts: new Date(r.ts).toISOString(),
        powerW: r.powerW,
        importWh: r.importWh,
        exportWh: r.exportWh,
        voltageV: r.voltageV,
        frequencyHz: r.frequencyHz,
        quality: r.quality,
        signature: r.signature!,
      });
      assert.equal(back, gw.address);
    }
  } finally {
    await bridge.stop();
    await demo.close();
    ledger.close();
  }
});
