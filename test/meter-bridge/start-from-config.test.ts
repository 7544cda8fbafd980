import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type ReadingEvent } from '../../core/events.js';
import { demoConfig } from '../../core/config/demo.js';
import { startBridgeFromConfig } from '../../meter-bridge/start-from-config.js';
import { tempDir } from '../helpers/tmp.js';

test('startBridgeFromConfig: the demo config gets one simulated household per participant, readings signed and stored', async () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 21, 12, 0, 0));
  const bus = new EventBus();
  const live: ReadingEvent[] = [];
  bus.on('reading', (r) => live.push(r));
  const stored: ReadingEvent[] = [];
  const dataDir = join(tempDir('mgx-sbc-'), 'data');
  const run = await startBridgeFromConfig({
    config: demoConfig(3),
    clock,
    bus,
    dataDir,
    store: { insertReadings: (rs) => void stored.push(...rs) },
    autoStart: false,
  });
  try {
    assert.equal(run.demo!.households.length, 3);
    assert.deepEqual(run.meterIds, ['h01-grid', 'h01-pv', 'h02-grid', 'h02-pv', 'h03-grid']);
    await run.bridge.pollOnce();
    assert.deepEqual(live.map((r) => r.meterId).sort(), run.meterIds.slice().sort());
    assert.equal(stored.length, 5);
    assert.ok(stored.every((r) => r.gateway === run.gateway && /^0x[0-9a-f]{130}$/.test(r.signature!)));
  } finally {
    await run.stop();
  }
});
