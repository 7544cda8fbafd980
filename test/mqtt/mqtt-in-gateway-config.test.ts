import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ManualClock } from '../../core/clock.js';
import { demoConfig } from '../../core/config/demo.js';
import { validateConfig } from '../../core/config/validate.js';
import { MicrogridError } from '../../core/errors.js';
import { meterGateways } from '../../ledger/readings.js';
import { startMicrogrid } from '../../app/start.js';
import { tempDir } from '../helpers/tmp.js';

const REMOTE = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

test(
  'participants[].meters[].gateway: registered at start, and it wins over the in-process bridge for that meter',
  { timeout: 90_000 },
  async () => {
    const demo = structuredClone(demoConfig(2));
    const moved = demo.participants[0]!.meters[0]!;
    moved.gateway = REMOTE;
    const config = validateConfig({ ...demo, clock: { speed: 1 } });
    const mg = await startMicrogrid({
      config,
      configSource: 'test',
      dataDir: tempDir(),
      log: pino({ level: 'silent' }),
      port: 0,
      clock: new ManualClock(Date.parse('2026-06-21T10:00:00Z')),
    });
    try {
      const all = config.participants.flatMap((p) => p.meters.map((m) => m.id));
      const gateways = meterGateways(mg.ledger, all);
      assert.equal(gateways.get(moved.id), REMOTE.toLowerCase(), 'the configured gateway signs this meter');
      const local = new Set(all.filter((id) => id !== moved.id).map((id) => gateways.get(id)));
      assert.equal(local.size, 1, 'every other meter has the in-process bridge as its gateway');
      assert.notEqual([...local][0], REMOTE.toLowerCase());
    } finally {
      await mg.stop();
    }
  },
);

test('a gateway that is not a 20-byte address is refused, naming the key and the value', () => {
  assert.throws(
    () => validateConfig({ participants: [{ id: 'p1', name: 'P1', meters: [{ id: 'm1', gateway: '0x1234' }] }] }),
    (err: unknown) => {
      assert.ok(err instanceof MicrogridError);
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.match(err.message, /participants\[0\]\.meters\[0\]\.gateway/);
      assert.match(err.message, /0x1234/);
      assert.match(err.message, /20-byte EVM address/);
      return true;
    },
  );
});
