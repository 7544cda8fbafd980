import type { FastifyBaseLogger } from 'fastify';
import type { Ledger } from '../ledger/ledger.js';
import type { Config } from '../core/config/schema.js';
import type { Clock } from '../core/clock.js';
import type { DeviceHealthEvent, EventBus } from '../core/events.js';
import type { Metrics } from '../core/metrics.js';
import type { MeterHold } from '../ledger/meter-data.js';
import type { NewForwardOrder, OrderRow } from '../ledger/orders.js';
import type { Side } from '../core/market.js';

/** What the HTTP app needs from the running system; app/start.ts provides it. */
export interface DashboardDeps {
  ledger: Ledger;
  config: Config;
  clock: Clock;
  version: string;
  bus?: EventBus;
  /** Served at /metrics in the Prometheus text format. */
  metrics?: Metrics;
  logger?: FastifyBaseLogger;
  /** Where auth.tokens' `{ env: NAME }` secrets are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** A meter's readings are streamed at most once per this many real ms (default 1000). */
  readingGapMs?: number;
  /**
   * The stream's fan-out writes for this many ms before yielding to the event loop (default DEFAULT_SLICE_MS in
   * routes/stream.ts).
   */
  streamSliceMs?: number;
  /** false: do not build the web bundle at start (API-only tests); default builds when missing or stale. */
  buildBundle?: boolean;
  /**
   * The bridge's device health now (app/start.ts: `bridge.health()`). The bridge reports health on the
   * bus only when a status changes, and those of its first polls may come before the dashboard is
   * built: the live state starts from this, or a device that never changes would have no tile.
   */
  devices?: () => DeviceHealthEvent[];
  /** The utility audit against the chain (audit/for-dashboard.ts), served at GET /api/audit/verify; absent: 503. */
  audit?: (range: { from: number; to: number }) => Promise<object>;
  /** Records an operator's decision on held meter data (settlement/holds.ts decideHold); absent: 503. */
  decideMeterHold?: (d: MeterHoldDecisionRequest) => MeterHold;
  /**
   * Each stored reading's verdict under the meter data rules (settlement/meter-data readingVerdicts), by ts; absent:
   * readings show 'unchecked'.
   */
  readingVerdicts?: (
    meterId: string,
    from: number,
    to: number,
  ) => Map<number, { status: 'trusted' | 'failed'; reasons: { code: string; message: string }[] }>;
  /** The open intervals' live order books (app/live-books.ts), which forward orders go into; absent: order writes fail
   * (INTERNAL), as decideMeterHold's do. */
  forwardOrders?: ForwardOrders;
}

/**
 * Forward orders into the interval's live book and the ledger together (stored and in the book, or neither). The
 * engine validates on arrival: its refusal is a MicrogridError naming the body's field, and nothing is stored.
 */
export interface ForwardOrders {
  place(o: NewForwardOrder): OrderRow;
  /** False when the order was not open. */
  cancel(row: Pick<OrderRow, 'id' | 'intervalStart'>): boolean;
  /** The Wh a participant's orders of one side hold in the interval's book: what a new order adds to. */
  heldWh(participant: string, start: number, side: Side): number;
}

/** A decision as the API takes it; `by` is the principal that made it. */
export interface MeterHoldDecisionRequest {
  intervalStart: number;
  meterId: string;
  decision: 'accept' | 'replace' | 'reject';
  reason: string;
  by: string;
  importWh?: number;
  exportWh?: number;
  estimate?: boolean;
}
