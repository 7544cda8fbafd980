import cron, { type ScheduledTask } from 'node-cron';
import { ScaledClock, type Clock, type TimerHandle } from '../core/clock.js';
import { intervalMs, intervalStartOf, nextIntervalStart, type IntervalMinutes } from '../core/interval.js';

export type BoundaryHandler = (intervalStart: number) => void | Promise<void>;

/**
 * Fires once per interval boundary with the start of the interval that just
 * began. At wall speed node-cron drives it (`0 *\/N * * * *` in UTC); with an
 * accelerated or manual clock the clock's own timers do, because cron only
 * knows wall time. Handlers never overlap: a boundary that arrives while the
 * previous handler runs waits for it, so steps stay in order.
 */
export class IntervalScheduler {
  readonly #clock: Clock;
  readonly #minutes: IntervalMinutes;
  readonly #useCron: boolean;
  #task: ScheduledTask | undefined;
  #timer: TimerHandle | undefined;
  #chain: Promise<void> = Promise.resolve();
  #stopped = true;
  #lastFired = -Infinity;
  onError: (err: unknown, intervalStart: number) => void = () => {};

  constructor(clock: Clock, minutes: IntervalMinutes, opts: { useCron?: boolean } = {}) {
    this.#clock = clock;
    this.#minutes = minutes;
    // cron knows only wall time: use it for a wall-speed clock, the clock's own timers otherwise.
    this.#useCron = opts.useCron ?? (clock instanceof ScaledClock && clock.speed === 1);
  }

  /** The cron expression used at wall speed (exposed for tests and `mgx status`). */
  get cronExpression(): string {
    return this.#minutes === 60 ? '0 0 * * * *' : `0 */${this.#minutes} * * * *`;
  }

  start(handler: BoundaryHandler): void {
    if (!this.#stopped) throw new Error('IntervalScheduler already started');
    this.#stopped = false;
    if (this.#useCron) {
      this.#task = cron.schedule(this.cronExpression, () => this.#fire(handler, this.#boundaryNow()), {
        timezone: 'Etc/UTC',
        name: 'interval-boundary',
      });
    } else {
      this.#armNext(handler);
    }
  }

  /** Stops firing and waits for a handler that is running to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    if (this.#task) await this.#task.destroy();
    await this.#chain;
  }

  // cron can fire a few ms either side of the boundary; round to the nearest one.
  #boundaryNow(): number {
    return intervalStartOf(this.#clock.now() + intervalMs(this.#minutes) / 2, this.#minutes);
  }

  #armNext(handler: BoundaryHandler): void {
    if (this.#stopped) return;
    const at = nextIntervalStart(this.#clock.now(), this.#minutes);
    this.#timer = this.#clock.at(at, () => {
      this.#fire(handler, at);
      this.#armNext(handler);
    });
  }

  #fire(handler: BoundaryHandler, start: number): void {
    if (this.#stopped || start <= this.#lastFired) return;
    this.#lastFired = start;
    this.#chain = this.#chain.then(async () => {
      try {
        await handler(start);
      } catch (err) {
        this.onError(err, start);
      }
    });
  }

  /** Resolves when every boundary fired so far has been handled (tests). */
  idle(): Promise<void> {
    return this.#chain;
  }
}
