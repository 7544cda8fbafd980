import type { Clock, TimerHandle } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import { intervalEnd, intervalMs, intervalStartOf, toIso, type IntervalMinutes } from '../core/interval.js';
import { stateRank, type IntervalState } from '../core/interval-state.js';
import type { Ledger } from '../ledger/ledger.js';
import { advanceInterval, getInterval, latestIntervalStart, listStartsNotFinal } from '../ledger/intervals.js';
import type { Logger } from './logger.js';

/**
 * What each lifecycle step does. The ledger-only steps are synchronous and
 * run inside the transaction that records the new state, so a step either
 * happened completely (and is never repeated) or not at all. The chain steps
 * are asynchronous and idempotent (the submitter's journal makes them so);
 * they report whether they are done, and are asked again until they are.
 */
export interface CycleSteps {
  /** closed → cleared: clear the interval's forward orders and store the result. */
  clearForward(start: number): void;
  /** Are all meters' readings for the interval in (so metering need not wait for the grace period)? */
  readingsComplete(start: number): boolean;
  /** delivered → metered: interval energy per meter, then metered clearing of standing policies. */
  meter(start: number): void;
  /** metered → settled: statements and credits. */
  settle(start: number): void;
  /** settled → committed: commitment and credits on chain; 'pending' while the chain is behind. */
  commit(start: number): Promise<'done' | 'pending'>;
  /** committed → final: confirmed to the chain's depth? */
  confirm(start: number): Promise<boolean>;
}

export interface IntervalCycleOptions {
  ledger: Ledger;
  clock: Clock;
  bus: EventBus;
  log: Logger;
  steps: CycleSteps;
  minutes: IntervalMinutes;
  gateClosureSeconds: number;
  gracePeriodSeconds: number;
  /** How many future intervals are open for forward orders (default 4). */
  openAhead?: number;
  /** Intervals missed while the process was down are recovered this far back (default 1 day). */
  maxCatchUpMs?: number;
  /** Real milliseconds between retries of a pending chain step (default 2000). */
  retryMs?: number;
  onStep?: (start: number, state: IntervalState, latencyMs: number) => void;
}

/**
 * Drives every interval through its lifecycle. `tick(now)` is idempotent: it
 * looks at the ledger and performs every step that is due, in order, for every
 * interval that is not final. It is called at each interval boundary (by the
 * scheduler), at each gate closure and grace-period end (by clock timers it
 * arms itself), and again after a pending chain step. After a restart the first
 * tick continues exactly where the ledger says each interval stopped.
 */
export class IntervalCycle {
  readonly #o: Required<Omit<IntervalCycleOptions, 'onStep'>> & Pick<IntervalCycleOptions, 'onStep'>;
  #running: Promise<void> | undefined;
  #again = false;
  #timers: TimerHandle[] = [];
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastPassAt: number | undefined;

  constructor(o: IntervalCycleOptions) {
    this.#o = { openAhead: 4, maxCatchUpMs: 86_400_000, retryMs: 2000, ...o };
  }

  /** Runs one pass; concurrent calls coalesce into one more pass after the current one. */
  tick(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#pass();
        } while (this.#again && !this.#stopped);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) t.cancel();
    if (this.#retry) clearTimeout(this.#retry);
    await this.#running;
  }

  async #pass(): Promise<void> {
    const { ledger, clock, minutes } = this.#o;
    const now = clock.now();
    const len = intervalMs(minutes);
    this.#noticeClockJump(now, len);
    const current = intervalStartOf(now, minutes);
    this.#openIntervals(current, len, now);

    const pending = listStartsNotFinal(ledger);
    let chainBlocked = false;
    for (const start of pending) {
      if (this.#stopped) return;
      // Chain steps go in interval order: a later interval never commits before an earlier one.
      try {
        chainBlocked = (await this.#advance(start, now, chainBlocked)) || chainBlocked;
      } catch (err) {
        // A failed step stays where it was and is retried; later intervals keep their ledger steps
        // but wait for this one on chain.
        chainBlocked = true;
        const state = getInterval(ledger, start)?.state ?? 'open';
        this.#o.log.error(
          { err, interval: toIso(start), state },
          `interval ${toIso(start)}: the step after ${state} failed; retrying`,
        );
        this.#o.bus.emit({
          type: 'alarm',
          severity: 'critical',
          code: 'INTERVAL_STEP_FAILED',
          message: `interval ${toIso(start)} is stuck after ${state}: ${(err as Error).message}`,
          subject: toIso(start),
          at: new Date(clock.now()).toISOString(),
        });
      }
    }
    this.#armTimers(current, len, now);
    if (chainBlocked) this.#scheduleRetry();
  }

  /**
   * Passes happen at least once per interval, so market time that moved back,
   * or more than one and a half intervals forward, between two passes is a clock step (or
   * a restart after downtime): say so, since intervals are then caught up.
   */
  #noticeClockJump(now: number, len: number): void {
    const last = this.#lastPassAt;
    this.#lastPassAt = now;
    if (last === undefined || (now >= last && now - last <= 1.5 * len)) return;
    this.#o.bus.emit({
      type: 'alarm',
      severity: 'warning',
      code: 'CLOCK_JUMP',
      message: `market time moved from ${new Date(last).toISOString()} to ${new Date(now).toISOString()}; intervals in between are caught up from what the meters recorded`,
      subject: 'clock',
      at: new Date(now).toISOString(),
    });
  }

  /** Opens the current and the next `openAhead` intervals, and recovers intervals missed while down. */
  #openIntervals(current: number, len: number, now: number): void {
    const { ledger, maxCatchUpMs, openAhead } = this.#o;
    const last = latestIntervalStart(ledger);
    let from = current;
    if (last !== null && last < current) from = Math.max(last + len, current - maxCatchUpMs);
    for (let s = from; s <= current + openAhead * len; s += len) {
      if (!getInterval(ledger, s)) this.#record(s, 'open', now);
    }
  }

  /** Advances one interval as far as it can go now. Returns true when it waits on the chain. */
  async #advance(start: number, now: number, chainBlocked: boolean): Promise<boolean> {
    const { ledger, steps, minutes, gateClosureSeconds, gracePeriodSeconds } = this.#o;
    const end = intervalEnd(start, minutes);
    for (;;) {
      const state = getInterval(ledger, start)?.state;
      if (state === undefined) return false;
      switch (state) {
        case 'open':
          if (now < start - gateClosureSeconds * 1000) return false;
          this.#record(start, 'closed', now);
          break;
        case 'closed':
          this.#record(start, 'cleared', now, () => steps.clearForward(start));
          break;
        case 'cleared':
          if (now < end) return false;
          this.#record(start, 'delivered', now);
          break;
        case 'delivered':
          if (now < end + gracePeriodSeconds * 1000 && !steps.readingsComplete(start)) return false;
          this.#record(start, 'metered', now, () => steps.meter(start));
          break;
        case 'metered':
          this.#record(start, 'settled', now, () => steps.settle(start));
          break;
        case 'settled': {
          if (chainBlocked) return true;
          const r = await steps.commit(start);
          if (r === 'pending') return true;
          this.#record(start, 'committed', this.#o.clock.now());
          break;
        }
        case 'committed':
          if (chainBlocked) return true;
          if (!(await steps.confirm(start))) return true;
          this.#record(start, 'final', this.#o.clock.now());
          break;
        case 'final':
          return false;
      }
    }
  }

  #record(start: number, to: IntervalState, now: number, effects?: () => void): void {
    const t0 = performance.now();
    const current = getInterval(this.#o.ledger, start)?.state;
    // The submitter moves intervals to committed and final itself (with its journal); here they are only announced.
    const already = current !== undefined && stateRank(current) >= stateRank(to);
    if (!already && !advanceInterval(this.#o.ledger, start, to, now, effects)) return;
    const latency = performance.now() - t0;
    this.#o.onStep?.(start, to, latency);
    this.#o.bus.emit({ type: 'interval-state', interval: toIso(start), state: to, at: new Date(now).toISOString() });
    this.#o.log.info({ interval: toIso(start), state: to, ms: Math.round(latency) }, `interval ${toIso(start)} ${to}`);
  }

  /** Wakes up at the next gate closure and the next grace-period end, which are not boundaries. */
  #armTimers(current: number, len: number, now: number): void {
    for (const t of this.#timers) t.cancel();
    this.#timers = [];
    if (this.#stopped) return;
    const { gateClosureSeconds, gracePeriodSeconds, clock } = this.#o;
    const candidates = [
      current + len - gateClosureSeconds * 1000,
      current + 2 * len - gateClosureSeconds * 1000,
      current + gracePeriodSeconds * 1000,
      current + len + gracePeriodSeconds * 1000,
    ];
    for (const at of new Set(candidates.filter((t) => t > now && t % len !== 0))) {
      this.#timers.push(clock.at(at, () => this.#tickFromTimer()));
    }
  }

  /**
   * A pass a timer starts has no caller to fail to: its failure is logged, and the next boundary or timer tries again.
   */
  #tickFromTimer(): void {
    this.tick().catch((err: unknown) => this.#o.log.error({ err }, 'interval cycle: a pass failed'));
  }

  #scheduleRetry(): void {
    if (this.#retry || this.#stopped) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#tickFromTimer();
    }, this.#o.retryMs);
    this.#retry.unref();
  }
}
