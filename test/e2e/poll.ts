import type { Bridge } from '../../meter-bridge/bridge.js';

/**
 * Polls every device once; on a loaded machine a device can miss a poll (a
 * timeout, then the bus's reconnect backoff), and since market time here moves
 * only when the test says so, such a miss would leave an interval without its
 * readings. So a poll is repeated, for up to `patienceMs` of wall time, until
 * every device answered — except the ones the test took offline on purpose —
 * and none was skipped as still busy with a poll of the bridge's own schedule.
 */
export async function pollAll(
  bridge: Bridge,
  opts: { except?: readonly string[]; patienceMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.patienceMs ?? 15_000);
  const except = new Set(opts.except ?? []);
  for (;;) {
    const c = await bridge.pollOnce();
    const failing = bridge.health().filter((h) => !except.has(h.deviceId) && h.lastSuccessAt !== h.lastPollAt);
    if ((failing.length === 0 && c.skipped === 0) || Date.now() > deadline) {
      if (c.skipped > 0)
        throw new Error(
          `${c.skipped} device(s) stayed busy for ${opts.patienceMs ?? 15_000} ms: ${JSON.stringify(bridge.health())}`,
        );
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}
