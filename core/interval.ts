import { invalid } from './errors.js';

/**
 * Intervals are aligned to UTC multiples of `market.intervalMinutes`. An
 * interval is identified inside the process by its start in epoch
 * milliseconds, in the ledger and on the wire by its ISO 8601 UTC start, and on
 * chain by its start in unix seconds. Unix time has no DST and no leap
 * seconds, so alignment is plain integer arithmetic and never drifts.
 */

export const INTERVAL_MINUTES = [1, 5, 15, 30, 60] as const;
export type IntervalMinutes = (typeof INTERVAL_MINUTES)[number];

/** Epoch milliseconds of an interval's start (always aligned). */
export type IntervalStart = number;

export function intervalMs(minutes: IntervalMinutes): number {
  return minutes * 60_000;
}

/** The start of the interval containing `t` (epoch ms). */
export function intervalStartOf(t: number, minutes: IntervalMinutes): IntervalStart {
  const len = intervalMs(minutes);
  return Math.floor(t / len) * len;
}

/** The first interval boundary strictly after `t`. */
export function nextIntervalStart(t: number, minutes: IntervalMinutes): IntervalStart {
  return intervalStartOf(t, minutes) + intervalMs(minutes);
}

export function intervalEnd(start: IntervalStart, minutes: IntervalMinutes): number {
  return start + intervalMs(minutes);
}

export function isAligned(t: number, minutes: IntervalMinutes): boolean {
  return Number.isSafeInteger(t) && t % intervalMs(minutes) === 0;
}

/** Interval starts in [from, to), aligned; `from` is rounded up to a boundary. */
export function* intervalsBetween(from: number, to: number, minutes: IntervalMinutes): Generator<IntervalStart> {
  const len = intervalMs(minutes);
  let t = isAligned(from, minutes) ? from : nextIntervalStart(from, minutes);
  for (; t < to; t += len) yield t;
}

/** "2026-11-21T19:30:00Z": seconds precision, always UTC. */
export function toIso(start: IntervalStart): string {
  return new Date(start).toISOString().replace('.000Z', 'Z');
}

export function toUnixSeconds(start: IntervalStart): number {
  return Math.floor(start / 1000);
}

export function fromUnixSeconds(s: number): IntervalStart {
  return s * 1000;
}

const ISO_UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|\+00:00)$/;

/** Parses an ISO 8601 UTC timestamp into epoch ms; refuses local times and offsets. */
export function parseUtc(value: unknown, field: string): number {
  if (typeof value !== 'string' || !ISO_UTC_RE.test(value)) {
    throw invalid('INVALID_TIME', field, value, 'an ISO 8601 UTC timestamp such as "2026-11-21T19:30:00Z"');
  }
  const t = Date.parse(value);
  // Date.parse rolls 2027-02-29 over to 1 March; a real date prints back the same day and time.
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 16) !== value.slice(0, 16))
    throw invalid('INVALID_TIME', field, value, 'a real calendar date and time in UTC');
  return t;
}

/** Parses an interval start given as ISO UTC or unix seconds, and checks alignment. */
export function parseIntervalStart(value: unknown, minutes: IntervalMinutes, field = 'interval'): IntervalStart {
  const t = typeof value === 'number' ? fromUnixSeconds(value) : parseUtc(value, field);
  if (!isAligned(t, minutes)) {
    throw invalid('INVALID_TIME', field, value, `an interval start aligned to ${minutes} minutes in UTC`);
  }
  return t;
}
