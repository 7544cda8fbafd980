import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMgxAsync } from '../helpers/mgx-process.js';
import { startBroker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../../meter-bridge/simulators/free-port.js';
import { tasmotaSensor } from './mqtt-meters/payloads.js';
import { startPublisher } from './mqtt-meters/publisher.js';

test(
  "mgx doctor waits for a message on each MQTT meter's topics: telemetry parsed passes, availability alone warns, offline or no broker fails",
  { timeout: 60_000 },
  async () => {
    const broker = await startBroker();
    const pub = await startPublisher(broker.url);
    const deadPort = await freePort();
    // A talking plug: a SENSOR every 200 ms while doctor runs (a real one sends every TelePeriod).
    const talk = setInterval(
      () =>
        void pub
          .publish('tele/plug-ok/SENSOR', tasmotaSensor({ importWh: 1_234_567, exportWh: 8, powerW: 850 }))
          .catch(() => {}),
      200,
    );
    try {
      await pub.publish('tele/plug-ok/LWT', 'Online', true);
      await pub.publish('tele/plug-quiet/LWT', 'Online', true);
      await pub.publish('em-off/online', 'false', true);
      const dir = tempDir();
      const cfg = join(dir, 'mqtt.yaml');
      const mq = (topic: string, url = broker.url) => `{ type: mqtt, url: "${url}", topic: ${topic} }`;
      writeFileSync(
        cfg,
        [
          'bridge:',
          '  devices:',
          `    - { id: plug-ok, kind: tasmota, transport: ${mq('plug-ok')} }`,
          `    - { id: plug-quiet, kind: tasmota, transport: ${mq('plug-quiet')} }`,
          `    - { id: em-off, kind: shelly-gen2, transport: ${mq('em-off')} }`,
          `    - { id: no-broker, kind: tasmota, transport: ${mq('x', `mqtt://127.0.0.1:${deadPort}`)} }`,
          '',
        ].join('\n'),
      );
      const r = await runMgxAsync(['doctor', '--config', cfg, '--data-dir', join(dir, 'data')]);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /✔ device plug-ok +tele\/plug-ok\/SENSOR: power 850 W, import 1234567 Wh, export 8 Wh; tele\/plug-ok\/LWT says online/,
      );
      assert.match(
        r.stdout,
        /! device plug-quiet +waited 10000 ms for a message on tele\/plug-quiet\/SENSOR, tele\/plug-quiet\/LWT at mqtt:\/\/127\.0\.0\.1:\d+: tele\/plug-quiet\/LWT says online \(telemetry comes every TelePeriod/,
      );
      assert.match(
        r.stdout,
        /✖ device em-off +mqtt:\/\/127\.0\.0\.1:\d+: em-off\/online says offline: the device is not connected to its broker/,
      );
      assert.match(
        r.stdout,
        new RegExp(`✖ device no-broker +broker mqtt://127\\.0\\.0\\.1:${deadPort}: .*check transport\\.url`),
      );
      assert.match(r.stdout, /2 check\(s\) failed\./);
    } finally {
      clearInterval(talk);
      await pub.close();
      await broker.stop();
    }
  },
);
