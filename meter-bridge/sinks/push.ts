import type { ReadingEvent } from '../../core/events.js';
import type { BridgeLogger } from '../logger.js';
import type { ReadingSink } from './reading-sink.js';
import { Spool } from './spool.js';

export interface PushSinkOptions {
  /** The engine's base URL, e.g. http://engine.local:8080 — readings go to POST {url}/api/readings. */
  url: string;
  /** Folder for readings the engine has not acknowledged yet. */
  spoolDir: string;
  spoolMaxBytes: number;
  /** Readings per POST (the route accepts up to 500). */
  batchSize?: number;
  flushIntervalMs?: number;
  timeoutMs?: number;
  log?: BridgeLogger;
}

export interface PushSink extends ReadingSink {
  flush(): Promise<void>;
  stats(): { pushed: number; spooled: number; failures: number; lastError: string | null };
}

/**
 * For a bridge on a household's gateway (`mgx bridge`): signed readings are
 * POSTed to the engine's `/api/readings`, batched. Anything not acknowledged
 * (engine down, network out) waits in a bounded disk spool, in order, as JSON
 * lines, and is sent when the engine answers again. The engine ignores a
 * reading it already has (same meter, same ts), so a resend is harmless.
 */
export function createPushSink(o: PushSinkOptions): PushSink {
  const spool = new Spool(o.spoolDir, o.spoolMaxBytes);
  const batchSize = Math.min(o.batchSize ?? 200, 500);
  let pending: string[] = [];
  let pushed = 0;
  let failures = 0;
  let lastError: string | null = null;
  let chain: Promise<void> = Promise.resolve();
  const endpoint = `${o.url.replace(/\/+$/, '')}/api/readings`;

  const post = async (lines: string[]): Promise<boolean> => {
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"readings":[${lines.join(',')}]}`,
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      });
      if (res.ok) {
        pushed += lines.length;
        return true;
      }
      const text = await res.text();
      lastError = `HTTP ${res.status}: ${text.slice(0, 300)}`;
      // 4xx other than 429: the engine refuses these readings (unknown meter, bad signature).
      // Retrying will not help; keep them on disk for the operator rather than drop them.
      if (res.status >= 400 && res.status < 500 && res.status !== 429) {
        o.log?.error(
          { err: lastError, readings: lines.length },
          'engine refused readings; kept in the rejected folder',
        );
        const rejected = new Spool(`${o.spoolDir}/rejected`, o.spoolMaxBytes);
        rejected.push(lines);
        return true;
      }
    } catch (err) {
      lastError = (err as Error).message;
    }
    failures++;
    o.log?.warn({ err: lastError, spooled: spool.size }, 'push to engine failed; spooling');
    return false;
  };

  const flushNow = async (): Promise<void> => {
    while (pending.length > 0) {
      const batch = pending.splice(0, batchSize);
      if (spool.size > 0 || !(await post(batch))) spool.push(batch);
    }
    for (let next = spool.peek(); next; next = spool.peek()) {
      if (!(await post(next.lines))) break;
      spool.ack(next.name);
    }
  };
  const flush = (): Promise<void> => (chain = chain.then(flushNow, flushNow));
  // A background flush has no caller to fail to (the spool's disk can): it is logged, and the next one tries again.
  const flushInBackground = (): void =>
    void flush().catch((err: Error) => o.log?.warn({ err: err.message }, 'push flush failed'));
  const timer = setInterval(flushInBackground, o.flushIntervalMs ?? 2000);
  timer.unref();

  return {
    name: 'push',
    signedOnly: true,
    write(readings: ReadingEvent[]) {
      for (const r of readings) pending.push(JSON.stringify(r));
      if (pending.length >= batchSize) flushInBackground();
    },
    flush,
    stats: () => ({ pushed, spooled: spool.lines, failures, lastError }),
    async close() {
      clearInterval(timer);
      await flush();
      if (pending.length > 0) {
        spool.push(pending);
        pending = [];
      }
    },
  };
}
