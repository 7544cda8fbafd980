import type { DeviceHealthEvent, EventBus, MicrogridEvent, ReadingEvent } from '../../core/events.js';
import type { Config } from '../../core/config/schema.js';
import type { Clock } from '../../core/clock.js';
import type { Ledger } from '../../ledger/ledger.js';
import { intervalMs, intervalStartOf, toIso } from '../../core/interval.js';
import { getInterval } from '../../ledger/intervals.js';
import { listMeters } from '../../ledger/participants.js';
import { listClearings, tradedWhBetween } from '../../ledger/clearing.js';
import { applyEvent, emptyBalance, powerBalance, type Balance, type LiveState, type MeterLive } from './model.js';
import { diffFrame, type FrameDiff } from './diff.js';

/**
 * One frame of the hub, before it is cut per view: every event of the batch (readings too, for in-process
 * subscribers such as the MQTT state out), the state it leads to (balance, current interval), and `diff`, what
 * changed for a client that sees everything. The views (views.ts) cut their wire frames from `diff`.
 */
export interface HubFrame {
  seq: number;
  t: number;
  market: number;
  events: MicrogridEvent[];
  balance: Balance;
  current: { interval: string; state: string | null };
  diff: FrameDiff;
  /** Who owns each meter as of this frame (the same map from frame to frame until a meter changes hands). */
  owners: ReadonlyMap<string, string | null>;
  /** The participants who gained or lost a meter in this frame: their views must start again from a snapshot. */
  rescoped: ReadonlySet<string>;
}

export interface LiveHubOptions {
  ledger: Ledger;
  config: Config;
  clock: Clock;
  bus?: EventBus | undefined;
  /** Frames kept for reconnecting clients. */
  replayFrames: number;
  /** A meter's readings go out at most this often (real ms); the latest wins. */
  readingGapMs?: number;
  /** Real wall time, for throttling and latency stamps. */
  now?: () => number;
  /**
   * A meter whose device health is unknown (its readings are pushed by a remote bridge) counts as
   * reporting while its last reading arrived less than this many real ms ago (default 2.5 s).
   */
  reportingWindowMs?: number;
  /** The devices' health at start (DashboardDeps.devices). */
  devices?: () => DeviceHealthEvent[];
}

/**
 * Keeps the live state from the bus and turns events into numbered delta
 * frames. Events arriving in the same event-loop turn (a poll round of the
 * bridge) go out as one frame, so batching adds no delay. Readings are
 * throttled per meter to one per `readingGapMs` (the newest is kept and sent
 * when the meter's slot opens), so a fast bridge cannot flood the clients.
 */
export class LiveHub {
  readonly state: LiveState;
  #seq = 0;
  readonly #ring: HubFrame[] = [];
  readonly #subs = new Set<(f: HubFrame) => void>();
  readonly #opts: LiveHubOptions;
  readonly #now: () => number;
  readonly #gap: number;
  #queue: MicrogridEvent[] = [];
  #queueT = 0;
  #flushScheduled = false;
  /** Per meter, the earliest time (real ms) its next reading may go out. */
  readonly #nextSlot = new Map<string, number>();
  readonly #pending = new Map<string, ReadingEvent>();
  /**
   * Per meter, the newest reading time (ms) the hub took: a duplicate or older reading never changes the live state.
   */
  readonly #newest = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #unsubscribe: (() => void) | undefined;
  #traded = { interval: 0, today: 0 };
  #metersLoadedAt = -Infinity;
  /** The latest clearing with a price (an empty forward book clears with none; it must not blank the price). */
  #lastPriced: { price: string; interval: string } | null = null;
  #ticker: NodeJS.Timeout | undefined;
  /** The meters as the last frame left them (what a client that applied every frame holds), to diff against. */
  #sent = new Map<string, MeterLive>();
  #owners: ReadonlyMap<string, string | null> = new Map();
  /** Per meter, when (real ms) its last reading reached the hub. */
  readonly #heardAt = new Map<string, number>();

  constructor(opts: LiveHubOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#gap = opts.readingGapMs ?? 1000;
    const { config, ledger, clock } = opts;
    const minutes = config.market.intervalMinutes;
    const current = intervalStartOf(clock.now(), minutes);
    const last = listClearings(ledger, { limit: 1 })[0];
    this.state = {
      microgrid: config.microgrid.name,
      currency: config.microgrid.currency,
      intervalMinutes: minutes,
      currentInterval: toIso(current),
      currentIntervalState: getInterval(ledger, current)?.state ?? null,
      meters: {},
      devices: {},
      alarms: [],
      lastCleared: last
        ? {
            type: 'interval-cleared',
            interval: toIso(last.intervalStart),
            kind: last.kind,
            clearingPrice: last.clearingPrice,
            matchedWh: last.matchedWh,
            trades: last.trades,
          }
        : null,
      settlements: [],
      lastMetered: null,
      balance: emptyBalance(),
    };
    for (const d of opts.devices?.() ?? []) applyEvent(this.state, d);
    this.refreshMeters();
    this.#refreshTraded();
    const priced = listClearings(ledger, { priced: true, limit: 1 })[0];
    this.#lastPriced = priced ? { price: priced.clearingPrice!, interval: toIso(priced.intervalStart) } : null;
    this.state.balance = this.#balance();
    this.#sent = copyMeters(this.state.meters);
    this.#owners = ownersOf(this.state.meters);
    this.#unsubscribe = opts.bus?.onAny((e) => {
      if (e.type === 'reading' && !this.#isNewest(e)) return;
      this.#onEvent(e);
    });
    this.#ticker = setInterval(() => this.#tick(), 1000);
    this.#ticker.unref();
  }

  get seq(): number {
    return this.#seq;
  }

  /** Loads the meter list from the ledger (participant and role of each meter). */
  refreshMeters(): void {
    for (const m of listMeters(this.#opts.ledger)) {
      const cur = this.state.meters[m.id];
      if (cur) {
        cur.participantId = m.participantId;
        cur.role = m.role;
        cur.deviceId = m.deviceId;
      } else {
        this.state.meters[m.id] = {
          meterId: m.id,
          participantId: m.participantId,
          role: m.role,
          deviceId: m.deviceId,
          powerW: null,
          importWh: null,
          exportWh: null,
          ts: null,
          quality: null,
        };
      }
    }
  }

  subscribe(fn: (f: HubFrame) => void): () => void {
    this.#subs.add(fn);
    return () => void this.#subs.delete(fn);
  }

  /** Frames after `seq`, or null when some of them are no longer kept (the client needs a snapshot). */
  framesSince(seq: number): HubFrame[] | null {
    if (seq === this.#seq) return [];
    if (seq > this.#seq || seq < 0) return null;
    const first = this.#ring[0];
    if (!first || first.seq > seq + 1) return null;
    return this.#ring.slice(seq + 1 - first.seq);
  }

  close(): void {
    this.#unsubscribe?.();
    clearInterval(this.#ticker);
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#subs.clear();
  }

  /**
   * A replayed or late reading (a spool catching up, a replay attack) is in the ledger for metering, but the live view
   * shows the newest.
   */
  #isNewest(e: ReadingEvent): boolean {
    const t = Date.parse(e.ts);
    const shown = this.state.meters[e.meterId]?.ts;
    const newest = Math.max(this.#newest.get(e.meterId) ?? -Infinity, shown ? Date.parse(shown) : -Infinity);
    if (!(t > newest)) return false;
    this.#newest.set(e.meterId, t);
    return true;
  }

  #onEvent(e: MicrogridEvent): void {
    if (e.type === 'reading') {
      const now = this.#now();
      // Slots, not gaps: a meter polled every second whose reading comes a few ms early still
      // goes out in its round's frame (within 10 % of the gap), while the slots advance by a
      // whole gap each time, so over any stretch a meter never exceeds one reading per gap.
      const due = this.#nextSlot.get(e.meterId);
      const slack = this.#gap / 10;
      if (due !== undefined && now < due - slack) {
        const meterId = e.meterId;
        this.#pending.set(meterId, e);
        if (!this.#timers.has(meterId)) {
          this.#timers.set(
            meterId,
            setTimeout(
              () => {
                this.#timers.delete(meterId);
                const p = this.#pending.get(meterId);
                this.#pending.delete(meterId);
                if (p) this.#onEvent(p);
              },
              Math.max(0, due - slack - now),
            ),
          );
        }
        return;
      }
      this.#nextSlot.set(e.meterId, Math.max(now, due ?? now) + this.#gap);
      this.#heardAt.set(e.meterId, now);
      // A meter the ledger did not know yet: reload the list, at most every 10 s (a misconfigured bridge must not cost
      // a query per reading).
      if (!this.state.meters[e.meterId] && now - this.#metersLoadedAt > 10_000) {
        this.#metersLoadedAt = now;
        this.refreshMeters();
      }
      // The signature is for auditors (it is in the ledger's readings); the live view does not need its 130 bytes per
      // reading.
      if ('signature' in e) {
        const slim: Record<string, unknown> = { ...e };
        delete slim.signature;
        this.#enqueue(slim as unknown as ReadingEvent);
        return;
      }
    }
    if (e.type === 'interval-cleared') this.#refreshTraded();
    this.#enqueue(e);
  }

  #enqueue(e: MicrogridEvent): void {
    if (this.#queue.length === 0) this.#queueT = this.#now();
    this.#queue.push(e);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  /** The interval containing market now, with its ledger state. */
  #current(): HubFrame['current'] {
    const start = intervalStartOf(this.#opts.clock.now(), this.#opts.config.market.intervalMinutes);
    return { interval: toIso(start), state: getInterval(this.#opts.ledger, start)?.state ?? null };
  }

  /**
   * Called every second: a new current interval, or a meter that stopped reporting, gets a frame
   * even when no event arrives (a silent meter sends none).
   */
  #tick(): void {
    if (this.#flushScheduled) return;
    const start = intervalStartOf(this.#opts.clock.now(), this.#opts.config.market.intervalMinutes);
    const newInterval = toIso(start) !== this.state.currentInterval;
    if (!newInterval && this.#reporting().length === this.state.balance.metersReporting) return;
    if (newInterval) this.#refreshTraded(start);
    this.#queueT = this.#now();
    this.#flushScheduled = true;
    setImmediate(() => this.#flush(true));
  }

  #flush(force = false): void {
    this.#flushScheduled = false;
    const events = this.#queue;
    this.#queue = [];
    if (events.length === 0 && !force) return;
    for (const e of events) {
      if (e.type === 'interval-cleared' && e.clearingPrice !== null)
        this.#lastPriced = { price: e.clearingPrice, interval: e.interval };
    }
    const before = {
      balance: this.state.balance,
      current: { interval: this.state.currentInterval, state: this.state.currentIntervalState },
    };
    // Readings after every other event, the order applyDelta applies them in, so both sides reach the same state.
    for (const e of events) if (e.type !== 'reading') applyEvent(this.state, e);
    const afterEvents = { interval: this.state.currentInterval, state: this.state.currentIntervalState };
    for (const e of events) if (e.type === 'reading') applyEvent(this.state, e);
    const current = this.#current();
    this.state.balance = this.#balance();
    this.state.currentInterval = current.interval;
    this.state.currentIntervalState = current.state;
    const diff = diffFrame(this.#sent, this.state.meters, before.balance, this.state.balance, afterEvents, current);
    diff.events = events.filter((e) => e.type !== 'reading');
    const owners = ownersOf(this.state.meters);
    const rescoped = new Set<string>();
    for (const [id, p] of owners) {
      const was = this.#owners.get(id);
      if (was === p) continue;
      if (was) rescoped.add(was);
      if (p) rescoped.add(p);
    }
    for (const [id, was] of this.#owners) if (was && !owners.has(id)) rescoped.add(was);
    // Same owners: keep the old map, so frames share it and views keep their index of it.
    if (owners.size !== this.#owners.size || [...owners].some(([id, p]) => this.#owners.get(id) !== p))
      this.#owners = owners;
    this.#sent = copyMeters(this.state.meters);
    const frame: HubFrame = {
      seq: ++this.#seq,
      t: this.#queueT,
      market: this.#opts.clock.now(),
      events,
      balance: this.state.balance,
      current,
      diff,
      owners: this.#owners,
      rescoped,
    };
    this.#ring.push(frame);
    if (this.#ring.length > this.#opts.replayFrames) this.#ring.splice(0, this.#ring.length - this.#opts.replayFrames);
    for (const fn of this.#subs) fn(frame);
  }

  /** Traded energy this interval and this (UTC) day, from the ledger's clearing results. */
  #refreshTraded(current?: number): void {
    const minutes = this.#opts.config.market.intervalMinutes;
    const cur = current ?? intervalStartOf(this.#opts.clock.now(), minutes);
    const dayStart = cur - (cur % 86_400_000);
    // The interval of the last clearing price (metered books clear after their interval ends,
    // forward ones before it begins, often empty and price-less): both its clearings together.
    const priced = listClearings(this.#opts.ledger, { priced: true, to: cur + intervalMs(minutes), limit: 1 })[0];
    this.#traded = {
      interval: priced ? tradedWhBetween(this.#opts.ledger, priced.intervalStart, priced.intervalStart + 1) : 0,
      today: tradedWhBetween(this.#opts.ledger, dayStart, cur + intervalMs(minutes)),
    };
  }

  /**
   * The meters that report now: a reading that is not `missing`, from a device the bridge reports
   * online (it goes stale after one missed poll cycle), or, for a meter of no known device, a reading
   * that arrived within the reporting window. Only these feed the balance: a silent meter's last
   * power is not the present.
   */
  #reporting(): MeterLive[] {
    const now = this.#now();
    const window = this.#opts.reportingWindowMs ?? 2500;
    return Object.values(this.state.meters).filter((m) => {
      if (m.powerW === null || m.quality === 'missing' || m.role === null) return false;
      const device = m.deviceId === null ? undefined : this.state.devices[m.deviceId];
      if (device) return device.status === 'online';
      return now - (this.#heardAt.get(m.meterId) ?? -Infinity) < window;
    });
  }

  #balance(): Balance {
    const b = { ...powerBalance(this.#reporting()), metersKnown: Object.keys(this.state.meters).length };
    return {
      ...b,
      tradedWhInterval: this.#traded.interval,
      tradedWhToday: this.#traded.today,
      lastClearingPrice: this.#lastPriced?.price ?? null,
      lastClearedInterval: this.#lastPriced?.interval ?? null,
    };
  }
}

function copyMeters(meters: Record<string, MeterLive>): Map<string, MeterLive> {
  return new Map(Object.values(meters).map((m) => [m.meterId, { ...m }]));
}

function ownersOf(meters: Record<string, MeterLive>): Map<string, string | null> {
  return new Map(Object.values(meters).map((m) => [m.meterId, m.participantId]));
}
