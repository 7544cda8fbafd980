import { InfluxDB, setLogger } from '@influxdata/influxdb-client';
import type { ReadingEvent } from '../../core/events.js';
import type { BridgeLogger } from '../logger.js';
import type { ReadingSink } from './reading-sink.js';
import { toLine } from './line-protocol.js';
import { Spool } from './spool.js';

export interface InfluxSinkOptions {
  url: string;
  org: string;
  bucket: string;
  token?: string;
  /** Folder of the disk spool (e.g. `<dataDir>/influx-spool`). */
  spoolDir: string;
  spoolMaxBytes: number;
  /** Lines per write request. */
  batchSize?: number;
  /** Buffered lines are written at least this often, ms. */
  flushIntervalMs?: number;
  /** HTTP timeout of one write, ms. */
  timeoutMs?: number;
  /**
   * A meter's role (`grid`, `pv`), written as the `role` tag so dashboards can tell generation from the grid
   * connection.
   */
  roleOf?: (meterId: string) => string | undefined;
  log?: BridgeLogger;
}

export interface InfluxSink extends ReadingSink {
  /**
   * Writes what is buffered and what is spooled, in order; resolves when done or when the server is down (then it is
   * spooled).
   */
  flush(): Promise<void>;
  /**
   * Queues lines of the engine's other measurements (interval results, device
   * health), built with `influxLine` from core/influx-schema.ts, through the
   * same batches and spool as the readings.
   */
  writeLines(lines: readonly string[]): void;
  stats(): {
    written: number;
    spooledLines: number;
    spooledBatches: number;
    droppedLines: number;
    failures: number;
    lastError: string | null;
  };
}

/**
 * The InfluxDB v2 sink. Readings are batched; each batch is one v2 write
 * (`@influxdata/influxdb-client` with its own retries off: this sink owns
 * retrying, so order is kept). When a write fails the batch goes to the disk
 * spool, and while the spool is not empty every new batch goes behind it:
 * when the server is back the spool is sent oldest first, then the new
 * batches. A batch leaves the spool only after the server acknowledged it, so
 * nothing is lost; it is sent again only if the acknowledgement itself was
 * lost (a timeout after the server stored it), which the v2 write API makes
 * harmless for an identical point (same series, same timestamp, same value).
 */
export function createInfluxSink(o: InfluxSinkOptions): InfluxSink {
  const db = new InfluxDB({ url: o.url, ...(o.token ? { token: o.token } : {}), timeout: o.timeoutMs ?? 10_000 });
  const spool = new Spool(o.spoolDir, o.spoolMaxBytes);
  const batchSize = o.batchSize ?? 5000;
  let pending: string[] = [];
  let written = 0;
  let failures = 0;
  let lastError: string | null = null;
  let chain: Promise<void> = Promise.resolve();
  // The client logs write failures itself; route them to ours, once per failure, as warnings.
  setLogger({ error: () => {}, warn: () => {} });

  const send = async (lines: string[]): Promise<boolean> => {
    const api = db.getWriteApi(o.org, o.bucket, 'ms', {
      maxRetries: 0,
      batchSize: lines.length + 1,
      flushInterval: 0,
      maxBufferLines: lines.length + 1,
    });
    api.writeRecords(lines);
    try {
      await api.close();
      written += lines.length;
      return true;
    } catch (err) {
      failures++;
      lastError = (err as Error).message;
      o.log?.warn({ err: lastError, spooled: spool.lines + lines.length }, 'influx write failed; spooling');
      return false;
    }
  };

  const flushNow = async (): Promise<void> => {
    while (pending.length > 0) {
      const batch = pending.splice(0, batchSize);
      // Behind an existing spool, a new batch waits its turn on disk: order is kept.
      if (spool.size > 0 || !(await send(batch))) spool.push(batch);
    }
    for (let next = spool.peek(); next; next = spool.peek()) {
      if (!(await send(next.lines))) break;
      spool.ack(next.name);
    }
  };

  const flush = (): Promise<void> => (chain = chain.then(flushNow, flushNow));
  // A background flush has no caller to fail to (the spool's disk can): it is logged, and the next one tries again.
  const flushInBackground = (): void =>
    void flush().catch((err: Error) => o.log?.warn({ err: err.message }, 'influx flush failed'));
  const timer = setInterval(flushInBackground, o.flushIntervalMs ?? 1000);
  timer.unref();

  return {
    name: 'influx',
    signedOnly: false,
    write(readings: ReadingEvent[]) {
      for (const r of readings) pending.push(toLine(r, o.roleOf?.(r.meterId)));
      if (pending.length >= batchSize) flushInBackground();
    },
    writeLines(lines) {
      pending.push(...lines);
      if (pending.length >= batchSize) flushInBackground();
    },
    flush,
    stats: () => ({
      written,
      spooledLines: spool.lines,
      spooledBatches: spool.size,
      droppedLines: spool.droppedLines,
      failures,
      lastError,
    }),
    async close() {
      clearInterval(timer);
      await flush();
      // Whatever the server did not take stays in the spool for the next start.
      if (pending.length > 0) {
        spool.push(pending);
        pending = [];
      }
    },
  };
}
