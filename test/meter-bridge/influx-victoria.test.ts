import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import type { ReadingEvent } from '../../core/events.js';
import { createInfluxSink } from '../../meter-bridge/sinks/influx.js';
import { freePort } from '../../meter-bridge/simulators/free-port.js';
import { tempDir } from '../helpers/tmp.js';
import { startProcess, waitUntil } from './helpers.js';

/**
 * The InfluxDB sink against a real server speaking the v2 write API:
 * VictoriaMetrics (Debian's victoria-metrics), started here on a free loopback
 * port. Points must arrive with their tags, fields and timestamps; with the
 * server stopped for a while and restarted, none may be lost or doubled.
 */

async function startVm(port: number, dir: string) {
  const vm = await startProcess(
    '/usr/bin/victoria-metrics',
    [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dir}`, '-loggerLevel=ERROR'],
    null,
  );
  await waitUntil(
    async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
      } catch {
        return false;
      }
    },
    15_000,
    'victoria-metrics /health',
  );
  return vm;
}

interface Series {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

async function exportAll(port: number): Promise<Series[]> {
  await fetch(`http://127.0.0.1:${port}/internal/force_flush`);
  const res = await fetch(
    `http://127.0.0.1:${port}/api/v1/export?match[]=${encodeURIComponent('{__name__=~"meter_reading_.*"}')}`,
  );
  const text = await res.text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Series);
}

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const reading = (i: number, meterId = 'm-1'): ReadingEvent => ({
  type: 'reading',
  meterId,
  ts: new Date(T0 + i * 1000).toISOString(),
  powerW: 1000 + i,
  importWh: 5000 + i,
  exportWh: 7,
  voltageV: i % 2 === 0 ? 230.5 : null,
  frequencyHz: 50.01,
  quality: i === 3 ? 'suspect' : 'good',
});

test('points arrive with their tags, fields and timestamps; a server outage loses and doubles nothing', async () => {
  const port = await freePort();
  const vmDir = tempDir('mgx-vm-');
  const spoolDir = join(tempDir('mgx-spool-'), 'spool');
  let vm = await startVm(port, vmDir);
  const sink = createInfluxSink({
    url: `http://127.0.0.1:${port}`,
    org: 'mgx',
    bucket: 'readings',
    token: 'unused',
    spoolDir,
    spoolMaxBytes: 1_000_000,
    batchSize: 3,
    flushIntervalMs: 60_000,
    timeoutMs: 2000,
  });
  try {
    // Phase 1: server up.
    await sink.write([0, 1, 2, 3, 4].map((i) => reading(i)));
    await sink.flush();
    assert.equal(sink.stats().written, 5);
    let series: Series[] = [];
    await waitUntil(
      async () => ((series = await exportAll(port)), series.length === 9),
      15_000,
      'nine series (five fields good, four suspect: voltage was null) in VictoriaMetrics',
    );
    const byName = new Map(series.map((s) => [`${s.metric.__name__}|${s.metric.quality}`, s]));
    const power = byName.get('meter_reading_power_w|good')!;
    assert.equal(power.metric.meter, 'm-1');
    assert.deepEqual(power.timestamps, [T0, T0 + 1000, T0 + 2000, T0 + 4000]);
    assert.deepEqual(power.values, [1000, 1001, 1002, 1004]);
    assert.deepEqual(byName.get('meter_reading_power_w|suspect')!.timestamps, [T0 + 3000]);
    assert.deepEqual(byName.get('meter_reading_import_wh|good')!.values, [5000, 5001, 5002, 5004]);
    // voltage was null on odd readings: not written, not 0.
    assert.deepEqual(byName.get('meter_reading_voltage_v|good')!.timestamps, [T0, T0 + 2000, T0 + 4000]);

    // Phase 2: server down; readings keep coming and go to the disk spool.
    await vm.stop();
    await sink.write([5, 6, 7, 8, 9, 10, 11].map((i) => reading(i)));
    await sink.flush();
    await sink.write([12, 13].map((i) => reading(i)));
    await sink.flush();
    const s = sink.stats();
    assert.equal(s.written, 5);
    assert.equal(s.spooledLines, 9);
    assert.ok(s.failures >= 1);
    assert.ok(readdirSync(spoolDir).filter((f) => f.endsWith('.lp')).length >= 3, 'batches are on disk');

    // Phase 3: server back; the spool drains in order.
    vm = await startVm(port, vmDir);
    await sink.write([14].map((i) => reading(i)));
    await sink.flush();
    assert.equal(sink.stats().spooledLines, 0);
    assert.equal(sink.stats().written, 15);
    let power2: Series | undefined;
    await waitUntil(
      async () => {
        power2 = (await exportAll(port)).find(
          (x) => x.metric.__name__ === 'meter_reading_power_w' && x.metric.quality === 'good',
        );
        return power2?.timestamps.length === 14;
      },
      15_000,
      '14 good power points',
    );
    const expectedTs = [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map((i) => T0 + i * 1000);
    assert.deepEqual(power2!.timestamps, expectedTs, 'none lost, none doubled');
    assert.deepEqual(
      power2!.values,
      expectedTs.map((t) => 1000 + (t - T0) / 1000),
    );
  } finally {
    await sink.close?.();
    await vm.stop();
  }
});
