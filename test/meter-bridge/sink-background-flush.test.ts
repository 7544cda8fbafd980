import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReadingEvent } from '../../core/events.js';
import { createInfluxSink } from '../../meter-bridge/sinks/influx.js';
import { freePort } from '../../meter-bridge/simulators/free-port.js';
import { tempDir } from '../helpers/tmp.js';
import { waitUntil } from './helpers.js';

/**
 * A flush the sink starts itself (a full batch, its timer) has no caller to
 * reject to. When it fails (here the server does not answer and the spool's
 * folder has become a file, so the batch cannot be kept) the failure is
 * logged; it must not surface as an unhandled rejection, which ends a bridge.
 */
test('a failed background flush is logged, not an unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const warnings: string[] = [];
  const log = { info: () => {}, error: () => {}, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
  const spoolDir = join(tempDir('mgx-spool-'), 'spool');
  const port = await freePort(); // nothing listens on it
  const sink = createInfluxSink({
    url: `http://127.0.0.1:${port}`,
    org: 'mgx',
    bucket: 'readings',
    token: 'unused',
    spoolDir,
    spoolMaxBytes: 1_000_000,
    batchSize: 1,
    flushIntervalMs: 60_000,
    timeoutMs: 500,
    log,
  });
  try {
    rmSync(spoolDir, { recursive: true, force: true });
    writeFileSync(spoolDir, 'not a folder');
    const reading: ReadingEvent = {
      type: 'reading',
      meterId: 'm-1',
      ts: '2026-06-21T10:00:00.000Z',
      powerW: 1000,
      importWh: 10_000,
      exportWh: 0,
      voltageV: 230,
      frequencyHz: 50,
      quality: 'good',
    };
    await sink.write([reading]);
    await waitUntil(() => warnings.includes('influx flush failed'), 10_000, 'the failed flush logged');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    rmSync(spoolDir, { force: true });
    await sink.close?.();
  }
});
