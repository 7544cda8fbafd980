import { MicrogridError } from './errors.js';

/** The lifecycle of an interval (DESIGN.md, "Time"), in order. */
export const INTERVAL_STATES = [
  'open',
  'closed',
  'cleared',
  'delivered',
  'metered',
  'settled',
  'committed',
  'final',
] as const;
export type IntervalState = (typeof INTERVAL_STATES)[number];

const RANK: Record<IntervalState, number> = Object.fromEntries(INTERVAL_STATES.map((s, i) => [s, i])) as Record<
  IntervalState,
  number
>;

export function stateRank(s: IntervalState): number {
  return RANK[s];
}

/**
 * An interval only moves forward, one step at a time. Replaying the step it is
 * already in is allowed (idempotent restart); skipping or going back is not.
 */
export function assertTransition(from: IntervalState, to: IntervalState, interval: string): void {
  const d = RANK[to] - RANK[from];
  if (d === 0 || d === 1) return;
  throw new MicrogridError('INTERVAL_STATE', `interval ${interval} cannot move from ${from} to ${to}`, {
    field: 'state',
    value: to,
    expected: from === 'final' ? 'no further state (final)' : `"${INTERVAL_STATES[RANK[from] + 1]}"`,
  });
}
