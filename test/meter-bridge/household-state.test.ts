import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type ReadingEvent } from '../../core/events.js';
import { startBridge } from '../../meter-bridge/bridge.js';
import { createStoreSink } from '../../meter-bridge/sinks/store-sink.js';
import { startSimulatedHousehold, type SimulatedHousehold } from '../../meter-bridge/simulators/household.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A simulated household keeps its lifetime counters across restarts, as a
 * real meter does: read over Modbus by the bridge, a household restarted from
 * its state file — even a stale one, as a crash leaves it — serves exactly
 * the counters of one that never stopped, the time it was down included.
 * (Before, every start began the counters again: an interval `suspect` for
 * every meter at each restart of the demo.)
 */
test('a restarted household continues its counters from the data folder, equal to one that never stopped', async () => {
  const T0 = Date.UTC(2026, 5, 21, 11, 0, 3); // not on the 10 s grid
  const clock = new ManualClock(T0);
  const stateFile = join(tempDir('mgx-house-'), 'simulators', 'household-h03.json');
  const signer = privateKeyToAccount(generatePrivateKey());
  const poll = async (houses: { h: SimulatedHousehold; meter: string }[]): Promise<Map<string, ReadingEvent>> => {
    const got = new Map<string, ReadingEvent>();
    const bridge = startBridge({
      devices: houses.map(({ h, meter }) => ({
        id: `sim-${meter}`,
        kind: 'sunspec' as const,
        transport: { type: 'tcp' as const, host: h.host, port: h.port },
        unitId: h.unitId,
        meters: { grid: meter },
      })),
      clock,
      bus: new EventBus(),
      signer,
      recordEveryMs: 1,
      sinks: [createStoreSink({ insertReadings: (rs) => void rs.forEach((r) => got.set(r.meterId, r)) })],
      autoStart: false,
    });
    try {
      await bridge.pollOnce();
    } finally {
      await bridge.stop();
    }
    return got;
  };
  const counters = (r: ReadingEvent | undefined) => [r?.importWh, r?.exportWh];

  const reference = await startSimulatedHousehold({ clock, index: 2 });
  let house = await startSimulatedHousehold({ clock, index: 2, stateFile });
  try {
    let r = await poll([
      { h: reference, meter: 'ref' },
      { h: house, meter: 'house' },
    ]);
    assert.deepEqual(counters(r.get('house')), counters(r.get('ref')));
    const stale = readFileSync(stateFile, 'utf8'); // written at the first read
    await clock.advanceBy(30 * 60_000);
    r = await poll([
      { h: reference, meter: 'ref' },
      { h: house, meter: 'house' },
    ]);
    const beforeCrash = r.get('house')!;
    assert.deepEqual(counters(beforeCrash), counters(r.get('ref')));
    assert.ok(beforeCrash.exportWh! > 0 && beforeCrash.importWh! > 0);
    await house.close();
    // a crash: the last write of the file was the one of 30 market minutes ago
    writeFileSync(stateFile, stale);
    await clock.advanceBy(2 * 3_600_000 + 7_000); // down for two hours
    house = await startSimulatedHousehold({ clock, index: 2, stateFile });
    r = await poll([
      { h: reference, meter: 'ref' },
      { h: house, meter: 'house' },
    ]);
    const after = r.get('house')!;
    assert.deepEqual(counters(after), counters(r.get('ref')), 'the same counters as a household that never stopped');
    assert.ok(
      after.exportWh! > beforeCrash.exportWh! && after.importWh! >= beforeCrash.importWh!,
      'counting on, never back',
    );
  } finally {
    await house.close();
    await reference.close();
  }
});
