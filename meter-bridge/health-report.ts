import type { BridgeContext } from './bridge-context.js';
import type { DeviceRuntime } from './device-runtime.js';

/** Puts a device's health on the event bus (call when its tracker reports a change). */
export function emitHealth(ctx: BridgeContext, rt: DeviceRuntime): void {
  ctx.bus.emit(rt.health.event());
}

/** A poll or set-up failed: counted; a change of status goes on the bus and into the log. */
export function reportFailure(ctx: BridgeContext, rt: DeviceRuntime, err: unknown): void {
  if (!rt.health.failure(new Date(ctx.clock.now()).toISOString(), err)) return;
  emitHealth(ctx, rt);
  ctx.log?.warn({ device: rt.device.id, err: (err as Error).message }, `device ${rt.health.snapshot.status}`);
}
