import type { Ledger } from '../ledger/ledger.js';
import {
  getMeterHold,
  listExpiredHolds,
  meterSeriesReadings,
  metersForValidation,
  recordMeterHoldDecision,
  type MeterHold,
} from '../ledger/meter-data.js';
import { MicrogridError } from '../core/errors.js';
import { toIso } from '../core/interval.js';
import {
  DEFAULT_RATED_POWER_W,
  ESTIMATION_METHOD,
  VEE_CODES,
  validateMeterSeries,
  type MeterDataRules,
} from './meter-data/index.js';

/**
 * The operator's decisions on held meter data. accept: the held value (the
 * trusted counter's) becomes actual; replace: a value the operator gives, or
 * the time-apportioned estimate on the readings known now, becomes estimated;
 * reject: 0. Each is recorded once with who and why and billed as an
 * adjustment on the next statement (settle.ts); accepted export earns credits
 * in a commitment of its own. A hold left undecided past the window is
 * estimated by the system ("system:hold-window").
 */

export interface HoldContext {
  intervalMs: number;
  rules?: Partial<MeterDataRules>;
}

export type DecideHoldInput =
  | { decision: 'accept'; intervalStart: number; meterId: string; by: string; reason: string }
  | { decision: 'reject'; intervalStart: number; meterId: string; by: string; reason: string }
  | {
      decision: 'replace';
      intervalStart: number;
      meterId: string;
      by: string;
      reason: string;
      importWh: number;
      exportWh: number;
    }
  | { decision: 'replace'; intervalStart: number; meterId: string; by: string; reason: string; estimate: true };

const wh = (v: unknown, field: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new MicrogridError('INVALID_ENERGY', 'a replacement energy must be a non-negative integer number of Wh', {
      field,
      value: v,
      expected: 'an integer ≥ 0 (Wh)',
    });
  return v;
};

/** The time-apportioned estimate of a held meter-interval on the readings the ledger has now. */
export function estimateHeld(
  ledger: Ledger,
  ctx: HoldContext,
  h: Pick<MeterHold, 'intervalStart' | 'meterId'>,
): { importWh: number; exportWh: number } {
  const meter = metersForValidation(ledger).find((m) => m.id === h.meterId);
  if (!meter)
    throw new MicrogridError('NOT_FOUND', 'no such meter', {
      field: 'meterId',
      value: h.meterId,
      expected: 'a configured meter',
    });
  const lookMs = Math.max(ctx.intervalMs, 15 * 60_000);
  const [e] = validateMeterSeries({
    meterId: meter.id,
    role: meter.role,
    ratedPowerW: meter.ratedPowerW ?? DEFAULT_RATED_POWER_W[meter.role],
    intervalMs: ctx.intervalMs,
    intervals: [h.intervalStart],
    readings: meterSeriesReadings(ledger, meter.id, h.intervalStart, h.intervalStart + ctx.intervalMs, lookMs),
    ...(ctx.rules ? { rules: ctx.rules } : {}),
  });
  return { importWh: e!.importWh, exportWh: e!.exportWh };
}

export function decideHold(ledger: Ledger, ctx: HoldContext, d: DecideHoldInput, now: number): MeterHold {
  if (typeof d.reason !== 'string' || d.reason.trim().length === 0) {
    throw new MicrogridError('INVALID_INPUT', 'a decision on held meter data needs a reason', {
      field: 'reason',
      value: d.reason,
      expected: 'a non-empty text saying why',
    });
  }
  const h = getMeterHold(ledger, d.intervalStart, d.meterId);
  if (!h)
    throw new MicrogridError('NOT_FOUND', 'no held meter-interval', {
      field: 'meterId',
      value: `${d.meterId} @ ${toIso(d.intervalStart)}`,
      expected: 'a held meter-interval (GET /api/meter-data/holds)',
    });
  const base = { intervalStart: d.intervalStart, meterId: d.meterId, by: d.by, reason: d.reason.trim(), at: now };
  if (d.decision === 'accept') {
    // Accepted energy becomes actual and its export earns credits; energy estimated across a counter reset was
    // measured by no meter, so it may only settle as estimated (replace), never be accepted into credits.
    const reset = h.reasons.find((r) => r.code === VEE_CODES.resetEstimated);
    if (reset) {
      throw new MicrogridError(
        'INVALID_INPUT',
        `${d.meterId} @ ${toIso(d.intervalStart)} holds energy estimated across a counter reset (${reset.message}); it cannot be accepted as measured`,
        {
          field: 'decision',
          value: 'accept',
          expected:
            'replace (with the estimate, or a value) or reject: estimated energy settles with the grid and earns no credits',
        },
      );
    }
    return recordMeterHoldDecision(ledger, {
      ...base,
      decision: 'accept',
      importWh: h.importWh,
      exportWh: h.exportWh,
      status: 'actual',
      method: null,
    });
  }
  if (d.decision === 'reject')
    return recordMeterHoldDecision(ledger, {
      ...base,
      decision: 'reject',
      importWh: 0,
      exportWh: 0,
      status: 'rejected',
      method: null,
    });
  if ('estimate' in d)
    return recordMeterHoldDecision(ledger, {
      ...base,
      decision: 'replace',
      ...estimateHeld(ledger, ctx, h),
      status: 'estimated',
      method: ESTIMATION_METHOD,
    });
  return recordMeterHoldDecision(ledger, {
    ...base,
    decision: 'replace',
    importWh: wh(d.importWh, 'importWh'),
    exportWh: wh(d.exportWh, 'exportWh'),
    status: 'estimated',
    method: 'operator-value',
  });
}

/** Estimates every hold older than the window (market time); returns them decided. */
export function estimateExpiredHolds(
  ledger: Ledger,
  ctx: HoldContext & { windowMs: number },
  now: number,
): MeterHold[] {
  return listExpiredHolds(ledger, now - ctx.windowMs).map((h) =>
    recordMeterHoldDecision(ledger, {
      intervalStart: h.intervalStart,
      meterId: h.meterId,
      decision: 'estimate',
      ...estimateHeld(ledger, ctx, h),
      status: 'estimated',
      method: ESTIMATION_METHOD,
      by: 'system:hold-window',
      reason: `no decision within ${ctx.windowMs / 3_600_000} h of market time`,
      at: now,
    }),
  );
}
