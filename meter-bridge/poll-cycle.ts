import type { BridgeContext } from './bridge-context.js';
import type { PolledRuntime } from './device-runtime.js';
import { emitHealth, reportFailure } from './health-report.js';
import type { Ingest } from './ingest.js';
import type { SetUp } from './setup-queue.js';

export interface CycleStats {
  /** When the cycle was due (epoch ms, wall clock). Cycles can overlap, so they may finish out of order. */
  scheduledAt: number;
  /** Wall time from the cycle's scheduled start until its last poll finished, ms. */
  durationMs: number;
  /** How late the cycle started, ms. */
  lagMs: number;
  polled: number;
  /** Set-up devices not polled because their previous poll was still running: the cycle is late for them. */
  skipped: number;
  /** Devices not set up yet (connecting, SunSpec discovery, or retrying that): not polled, not late. */
  settingUp: number;
}

/**
 * One cycle due at `scheduledAt`; `setUpNew`: start setting up devices that are not set up (pollOnce has just tried).
 */
export type Cycle = (scheduledAt: number, setUpNew: boolean) => Promise<CycleStats>;

/** Reads one device once: health from the outcome, readings into ingest. */
async function poll(ctx: BridgeContext, ingest: Ingest, rt: PolledRuntime): Promise<void> {
  rt.busy = true;
  const t0 = performance.now();
  try {
    const ms = await rt.reader.read();
    const ts = ctx.clock.now();
    const asleep = ms.length > 0 && ms.every((m) => m.asleep === true);
    if (rt.health.success(new Date(ts).toISOString(), performance.now() - t0, rt.reader.requestsPerRead, asleep))
      emitHealth(ctx, rt);
    await ingest(rt, ms, ts);
  } catch (err) {
    reportFailure(ctx, rt, err);
  } finally {
    rt.busy = false;
  }
}

/** A cycle polls every set-up device not still busy with its previous poll, and waits for them. */
export function createCycle(ctx: BridgeContext, polled: readonly PolledRuntime[], ingest: Ingest, setUp: SetUp): Cycle {
  return async (scheduledAt, setUpNew) => {
    const start = Date.now();
    const running: Promise<void>[] = [];
    let skipped = 0;
    let settingUp = 0;
    for (const rt of polled) {
      if (rt.setup || !rt.reader.ready) {
        settingUp++;
        // eslint-disable-next-line @typescript-eslint/no-floating-promises -- setUp records a failure in the device's health; it does not reject
        if (setUpNew && !rt.setup) void setUp(rt);
        continue;
      }
      if (rt.busy) {
        skipped++;
        if (rt.health.missed()) emitHealth(ctx, rt);
        continue;
      }
      running.push(poll(ctx, ingest, rt));
    }
    await Promise.all(running);
    return {
      scheduledAt,
      durationMs: Date.now() - scheduledAt,
      lagMs: start - scheduledAt,
      polled: running.length,
      skipped,
      settingUp,
    };
  };
}
