import pLimit from 'p-limit';
import type { BridgeContext } from './bridge-context.js';
import type { PolledRuntime } from './device-runtime.js';
import { reportFailure } from './health-report.js';

/** Sets up one device (connect, SunSpec discovery), at most once at a time; resolves when done or failed. */
export type SetUp = (rt: PolledRuntime) => Promise<void>;

/**
 * Set-ups take one of `concurrency` slots, outside the cycles: a cycle polls
 * only devices that are set up, so connecting and discovering neither
 * lengthen a cycle nor make the next one skip a device still busy
 * discovering (which counted it as missed and could mark it offline).
 */
export function createSetUp(ctx: BridgeContext, concurrency: number): SetUp {
  const limit = pLimit(Math.max(1, concurrency));
  return (rt) => {
    if (rt.setup) return rt.setup;
    rt.busy = true;
    rt.setup = ctx.inflight.track(
      limit(async () => {
        try {
          if (!ctx.stopped) await rt.reader.prepare();
        } catch (err) {
          // A set-up cut short by stop() is not the device's failure.
          if (!ctx.stopped) reportFailure(ctx, rt, err);
        } finally {
          rt.busy = false;
          rt.setup = null;
        }
      }),
    );
    return rt.setup;
  };
}
