import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ManualClock } from '../../core/clock.js';
import { validateConfig } from '../../core/config/validate.js';
import type { ReadingEvent } from '../../core/events.js';
import { listReadingsBefore, setMeterGateway } from '../../ledger/readings.js';
import { signReading } from '../../meter-bridge/readings/sign.js';
import { createMqttSink } from '../../meter-bridge/sinks/mqtt.js';
import { connectEngineMqtt } from '../../app/mqtt/connection.js';
import { startReadingsIn } from '../../app/mqtt/readings-in.js';
import { createLogger } from '../../app/logger.js';
import { startBroker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { ledgerWithMeters, waitUntil } from '../meter-bridge/helpers.js';

const T0 = Date.UTC(2026, 5, 21, 12, 0, 0);
const reading = (meterId: string, s: number): ReadingEvent => ({
  type: 'reading',
  meterId,
  ts: new Date(T0 + s * 1000).toISOString(),
  powerW: 100,
  importWh: 1000 + s,
  exportWh: 0,
  voltageV: 230,
  frequencyHz: 50,
  quality: 'good',
});

/** The pid of the mosquitto serving `dir` (its config file is on its command line). */
function brokerPid(dir: string): number {
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(join(dir, 'mosquitto.conf'))) return Number(p);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no mosquitto for ${dir}`);
}

test(
  'the MQTT sink: a publish the broker does not acknowledge stays in the spool and is sent again; the resend is a duplicate the engine ignores',
  { timeout: 60_000 },
  async () => {
    const broker = await startBroker();
    const ledger = ledgerWithMeters(['m1', 'm2']);
    const gw = privateKeyToAccount(generatePrivateKey());
    setMeterGateway(ledger, 'm1', gw.address);
    setMeterGateway(ledger, 'm2', gw.address);
    const log = createLogger('silent');
    const engine = await connectEngineMqtt(
      validateConfig({ microgrid: { id: 'mg-s' }, mqtt: { url: broker.url } }),
      {},
      log,
    );
    const rin = await startReadingsIn({
      mqtt: engine,
      ledger,
      clock: new ManualClock(T0),
      log,
      messagesPerMinute: 600,
      maxMessageBytes: 65_536,
    });
    const sink = createMqttSink({
      url: broker.url,
      topics: { prefix: 'mgx', microgrid: 'mg-s' },
      gateway: gw.address,
      spoolDir: join(tempDir('mgx-sink-'), 'spool'),
      spoolMaxBytes: 1 << 20,
      ackTimeoutMs: 500,
      flushIntervalMs: 3_600_000,
      maxMessagesPerSecond: 1000,
    });
    const pid = brokerPid(broker.dir);
    let stopped = false;
    try {
      const signed = await Promise.all(
        [1, 2, 3].flatMap((s) => [signReading(gw, reading('m1', s)), signReading(gw, reading('m2', s))]),
      );
      await waitUntil(
        async () => (await sink.flush(), sink.stats().messages > 0 || sink.stats().spooled === 0),
        10_000,
        'the sink connected',
      );
      await sink.write(signed.slice(0, 2));
      await waitUntil(
        async () => (await sink.flush(), sink.stats().published === 2),
        10_000,
        'the first two published',
      );
      await waitUntil(() => listReadingsBefore(ledger, 'm1', 0, T0 + 10_000).length === 1, 10_000, 'the first stored');

      // The broker stops answering (SIGSTOP: the TCP connection stays up, no PUBACK comes).
      process.kill(pid, 'SIGSTOP');
      stopped = true;
      await sink.write(signed.slice(2));
      await sink.flush();
      assert.equal(sink.stats().spooled, 4, 'the unacknowledged readings wait in the spool');
      assert.ok(sink.stats().failures >= 1);
      assert.match(sink.stats().lastError ?? '', /no PUBACK within 500 ms/);

      process.kill(pid, 'SIGCONT');
      stopped = false;
      await waitUntil(async () => (await sink.flush(), sink.stats().spooled === 0), 10_000, 'the spool sent');
      await waitUntil(
        () =>
          listReadingsBefore(ledger, 'm1', 0, T0 + 10_000).length === 3 &&
          listReadingsBefore(ledger, 'm2', 0, T0 + 10_000).length === 3,
        10_000,
        'every reading stored',
      );
      // The first attempt reached the broker after all (it was only paused), then the resend: duplicates, counted and
      // ignored.
      await waitUntil(() => rin.stats().duplicates >= 1, 10_000, 'the resend counted as duplicates');
      assert.equal(rin.stats().accepted, 6);
      assert.deepEqual(
        listReadingsBefore(ledger, 'm2', 0, T0 + 10_000).map((r) => r.signature),
        signed.filter((r) => r.meterId === 'm2').map((r) => r.signature),
      );
    } finally {
      if (stopped) process.kill(pid, 'SIGCONT');
      await sink.close?.();
      await rin.stop();
      await engine.close();
      ledger.close();
      await broker.stop();
    }
  },
);
