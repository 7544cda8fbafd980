import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { validateConfig } from '../../core/config/validate.js';
import { connectEngineMqtt } from '../../app/mqtt/connection.js';
import { createLogger } from '../../app/logger.js';
import { MicrogridError } from '../../core/errors.js';
import { startBroker } from '../helpers/mosquitto.js';

const log = createLogger('silent');

/** The retained value of `topic`, read by a fresh client. */
async function retained(url: string, topic: string): Promise<string> {
  const c = await mqtt.connectAsync(url, { username: 'watch', password: 'w', reconnectPeriod: 0 });
  try {
    const got = new Promise<string>((resolve) => c.on('message', (t, m) => t === topic && resolve(m.toString())));
    await c.subscribeAsync(topic, { qos: 1 });
    return await Promise.race([
      got,
      new Promise<string>((_, rej) => setTimeout(() => rej(new Error(`nothing retained on ${topic}`)), 3000)),
    ]);
  } finally {
    await c.endAsync();
  }
}

test('the engine connection marks its microgrid online (retained), offline on close, and names mqtt.url when the login is refused', async () => {
  const broker = await startBroker({ users: { engine: 'secret', watch: 'w' } });
  after(() => broker.stop());
  const config = validateConfig({
    microgrid: { id: 'lane-1' },
    mqtt: { url: broker.url, username: 'engine', password: { env: 'MQ_PW' } },
  });
  const mq = await connectEngineMqtt(config, { MQ_PW: 'secret' }, log);
  assert.equal(await retained(broker.url, 'mgx/lane-1/status'), 'online');
  await mq.close();
  assert.equal(await retained(broker.url, 'mgx/lane-1/status'), 'offline');

  await assert.rejects(connectEngineMqtt(config, { MQ_PW: 'wrong' }, log, 3000), (err: unknown) => {
    assert.ok(err instanceof MicrogridError);
    assert.equal(err.code, 'MQTT_UNAVAILABLE');
    assert.match(err.message, new RegExp(`at ${broker.url.replace(/\./g, '\\.')}`));
    assert.equal(err.field, 'mqtt.url');
    return true;
  });
});

test('the last will says offline when the engine vanishes without a goodbye', async () => {
  const broker = await startBroker({ users: { engine: 'secret', watch: 'w' } });
  after(() => broker.stop());
  const config = validateConfig({
    microgrid: { id: 'lane-2' },
    mqtt: { url: broker.url, username: 'engine', password: { env: 'MQ_PW' } },
  });
  const mq = await connectEngineMqtt(config, { MQ_PW: 'secret' }, log);
  assert.equal(await retained(broker.url, 'mgx/lane-2/status'), 'online');
  mq.client.stream.destroy(); // the TCP connection cut, as a crash or a cable would
  mq.client.end(true);
  let last = '';
  for (let i = 0; i < 50 && last !== 'offline'; i++) {
    last = await retained(broker.url, 'mgx/lane-2/status');
    if (last !== 'offline') await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(last, 'offline');
});
