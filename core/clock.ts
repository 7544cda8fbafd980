/**
 * The clock is injected everywhere time matters, so tests can run a whole day
 * in milliseconds (ManualClock) and the demo can run faster than real time
 * (ScaledClock). Nothing outside this file calls Date.now() for market time.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Market time in epoch milliseconds. */
  now(): number;
  /** Calls `fn` once when market time reaches `at` (or soon after, never before). */
  at(at: number, fn: () => void): TimerHandle;
  /** Real milliseconds per market millisecond (1 for wall time; 1/60 at speed 60). */
  readonly speed: number;
}

// setTimeout takes at most 2^31-1 ms; longer waits are re-armed in steps.
const MAX_TIMEOUT = 2_147_483_647;

/** Wall time, optionally accelerated: market time runs `speed` times faster from `origin`. */
export class ScaledClock implements Clock {
  readonly speed: number;
  readonly #origin: number;
  readonly #realOrigin: number;

  constructor(speed = 1, origin: number = Date.now()) {
    if (!(speed > 0) || !Number.isFinite(speed))
      throw new RangeError(`clock speed must be a positive number, got ${speed}`);
    this.speed = speed;
    this.#origin = origin;
    this.#realOrigin = Date.now();
  }

  now(): number {
    return this.#origin + Math.floor((Date.now() - this.#realOrigin) * this.speed);
  }

  at(at: number, fn: () => void): TimerHandle {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      if (cancelled) return;
      const wait = Math.ceil((at - this.now()) / this.speed);
      // Timers can fire a millisecond early; re-arm until market time has truly reached `at`.
      if (wait <= 0) {
        fn();
        return;
      }
      timer = setTimeout(arm, Math.min(wait, MAX_TIMEOUT));
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        if (timer) clearTimeout(timer);
      },
    };
  }
}

export const systemClock: Clock = new ScaledClock(1, Date.now());

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void | Promise<void>;
  cancelled: boolean;
}

/**
 * A clock that moves only when told. `advanceTo` fires due timers in time order
 * (ties in the order they were set), each with `now()` equal to its own time.
 */
export class ManualClock implements Clock {
  readonly speed = 1;
  #now: number;
  #seq = 0;
  #timers: ManualTimer[] = [];

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  at(at: number, fn: () => void | Promise<void>): TimerHandle {
    const t: ManualTimer = { at, seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  /** Number of timers still waiting. */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time to `t`, firing every timer due on the way and awaiting each one. */
  async advanceTo(t: number): Promise<void> {
    if (t < this.#now) throw new RangeError(`ManualClock cannot go backwards (now ${this.#now}, asked ${t})`);
    for (;;) {
      const next = this.#nextDue(t);
      if (!next) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#now = next.at < this.#now ? this.#now : next.at;
      await next.fn();
    }
    this.#now = t;
  }

  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(this.#now + ms);
  }

  /** Sets the time without firing timers: a clock jump (NTP step, operator error). */
  jumpTo(t: number): void {
    this.#now = t;
  }

  #nextDue(limit: number): ManualTimer | undefined {
    this.#timers = this.#timers.filter((x) => !x.cancelled);
    let best: ManualTimer | undefined;
    for (const x of this.#timers) {
      if (x.at > limit) continue;
      if (!best || x.at < best.at || (x.at === best.at && x.seq < best.seq)) best = x;
    }
    return best;
  }
}
