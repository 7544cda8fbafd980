import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { EventBus } from '../../core/events.js';
import { demoConfig } from '../../core/config/demo.js';
import { validateConfig } from '../../core/config/validate.js';
import { MicrogridError } from '../../core/errors.js';
import { openLedger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { LiveHub } from '../../dashboard/live/hub.js';
import { connectEngineMqtt } from '../../app/mqtt/connection.js';
import { startStateOut } from '../../app/mqtt/state-out.js';
import { withMqttUrl } from '../../app/mqtt/with-url.js';
import { createLogger } from '../../app/logger.js';
import { spawnMgx } from '../helpers/mgx-process.js';
import { startBroker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { until, watch } from './watch.js';

test('mqtt.households must name participants: the error names the key and the value', () => {
  const demo = structuredClone(demoConfig(3));
  assert.throws(
    () => validateConfig({ ...demo, mqtt: { url: 'mqtt://127.0.0.1:1883', households: ['h01', 'h09'] } }),
    (err: unknown) =>
      err instanceof MicrogridError &&
      err.code === 'CONFIG_INVALID' &&
      err.field === 'mqtt.households[1]' &&
      err.value === 'h09' &&
      /expected the id of a participant/.test(err.message),
  );
  assert.throws(
    () => validateConfig({ ...demo, mqtt: { url: 'mqtt://127.0.0.1:1883', households: 'some' } }),
    /mqtt\.households = "some": expected a list of participant ids, or "all"/,
  );
  assert.equal(
    validateConfig({ ...demo, mqtt: { url: 'mqtt://127.0.0.1:1883' } }).mqtt?.households.length,
    0,
    'the default is none',
  );
  assert.equal(
    withMqttUrl(demoConfig(3), 'mqtt://127.0.0.1:1', true).mqtt?.households,
    'all',
    'the embedded demo publishes its households',
  );
  assert.deepEqual(
    withMqttUrl(validateConfig({ participants: demo.participants }), 'mqtt://127.0.0.1:1', false).mqtt?.households,
    [],
    'a configured deployment: none until listed',
  );
});

test(
  'a configured deployment with no households listed publishes the microgrid and nothing of any household',
  { timeout: 30_000 },
  async () => {
    const broker = await startBroker();
    const w = await watch(broker.url, ['#']);
    const config = withMqttUrl(
      validateConfig({ participants: structuredClone(demoConfig(2)).participants }),
      broker.url,
      false,
    );
    const ledger = openLedger(join(tempDir(), 'ledger.sqlite'));
    const clock = new ManualClock(Date.parse('2026-06-21T10:00:00Z'));
    for (const p of config.participants) upsertParticipant(ledger, p, clock.now());
    const bus = new EventBus();
    const hub = new LiveHub({ ledger, config, clock, bus, replayFrames: 10 });
    const mq = await connectEngineMqtt(config, {}, createLogger('silent'));
    const out = await startStateOut({
      mqtt: mq,
      hub,
      ledger,
      config,
      clock,
      log: createLogger('silent'),
      version: 'test',
    });
    try {
      assert.deepEqual(out.households, []);
      for (let i = 1; i <= 20; i++) {
        bus.emit({
          type: 'reading',
          meterId: 'h01-grid',
          ts: new Date(clock.now() + i * 1000).toISOString(),
          powerW: 500 + i,
          importWh: 1000 + i,
          exportWh: 0,
          voltageV: null,
          frequencyHz: null,
          quality: 'good',
        });
        await new Promise((r) => setTimeout(r, 100));
      }
      await w.waitFor(
        (m) =>
          m.topic === 'mgx/demo/grid/state' &&
          (JSON.parse(m.payload) as { balance: { netGridW: number | null } }).balance.netGridW === 520,
        5000,
        'the balance with the last reading',
      );
      assert.ok(
        w.seen.some((m) => m.topic.startsWith('homeassistant/sensor/mgx__demo/demo__')),
        'the microgrid device',
      );
      for (const m of w.seen)
        assert.ok(!/h0[12]|Household/.test(m.topic + m.payload), `${m.topic}: ${m.payload.slice(0, 120)}`);
    } finally {
      out.close();
      hub.close();
      await mq.close();
      ledger.close();
      await w.end();
      await broker.stop();
    }
  },
);

test(
  'mgx start --mqtt URL (the embedded demo): Home Assistant discovery for all twelve households, live values, offline at exit',
  { timeout: 120_000 },
  async () => {
    const broker = await startBroker();
    const w = await watch(broker.url, ['homeassistant/#', 'mgx/#']);
    const p = spawnMgx(['start', '--port', '0', '--data-dir', tempDir(), '--speed', '600', '--mqtt', broker.url]);
    try {
      await p.waitFor(/running at/, 60_000);
      const devices = () =>
        new Set(
          w.seen
            .filter((m) => m.topic.startsWith('homeassistant/') && m.payload)
            .map((m) => (JSON.parse(m.payload) as { device: { name: string } }).device.name),
        );
      await until(() => (devices().size === 13 ? true : undefined), 20_000, 'a device per household and the microgrid');
      assert.deepEqual(
        [...devices()].sort(),
        [
          'Demo microgrid',
          ...Array.from({ length: 12 }, (_, i) => `Household ${String(i + 1).padStart(2, '0')}`),
        ].sort(),
      );
      // 12 households × (grid 3 + the day 6) + 8 with panels × 2 + the microgrid's 7.
      assert.equal(
        new Set(w.seen.filter((m) => m.topic.startsWith('homeassistant/')).map((m) => m.topic)).size,
        12 * 9 + 8 * 2 + 7,
      );
      for (let i = 1; i <= 12; i++) {
        const h = `h${String(i).padStart(2, '0')}`;
        const m = await w.waitFor(
          (x) =>
            x.topic === `mgx/demo/households/${h}/state` &&
            (JSON.parse(x.payload) as { meters: Record<string, { powerW: number | null }> }).meters[`${h}-grid`]!
              .powerW !== null,
          20_000,
          `${h} live power`,
        );
        assert.ok(m.payload.length > 0);
      }
    } finally {
      p.child.kill('SIGTERM');
      const exit = await p.exited;
      assert.equal(exit.code, 0, p.output().slice(-2000));
    }
    await w.waitFor((m) => m.topic === 'mgx/demo/status' && m.payload === 'offline', 5000, 'offline at exit');
    await w.end();
    await broker.stop();
  },
);
