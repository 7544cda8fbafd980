import { createPublicClient, http } from 'viem';
import type { EventBus } from '../core/events.js';

export interface ChainHealth {
  /** True when the chain answered the last probe or the submitter's last call. */
  readonly up: boolean;
  stop(): void;
}

/**
 * Whether the chain answers, for `mgx_chain_up`. The submitter reports its
 * own outages (`chain-unavailable` / `chain-available` settlement events),
 * but an idle submitter asks the chain nothing, so a node that died between
 * two intervals would look up until the next commit: a probe
 * (`eth_blockNumber`) every `everyMs` of wall time covers that. Whichever
 * answered last decides.
 */
export function watchChainHealth(o: {
  rpcUrl: string;
  bus: EventBus;
  everyMs?: number;
  timeoutMs?: number;
}): ChainHealth {
  const client = createPublicClient({ transport: http(o.rpcUrl, { retryCount: 0, timeout: o.timeoutMs ?? 5000 }) });
  let up = true; // connectChain has just reached it
  let probing = false;
  const off = o.bus.on('settlement-state', (e) => {
    if (e.state === 'chain-unavailable') up = false;
    else if (e.state === 'chain-available') up = true;
  });
  const probe = (): void => {
    if (probing) return;
    probing = true;
    client.getBlockNumber({ cacheTime: 0 }).then(
      () => ((up = true), (probing = false)),
      () => ((up = false), (probing = false)),
    );
  };
  const timer = setInterval(probe, o.everyMs ?? 15_000);
  timer.unref();
  return {
    get up() {
      return up;
    },
    stop() {
      clearInterval(timer);
      off();
    },
  };
}
