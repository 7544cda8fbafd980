import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seriesFromBlock, type ReceivedReading } from '../../audit/evidence.js';
import { SERIES_EXTRA_READINGS } from '../../ledger/meter-data.js';
import { fcParams } from '../helpers/fc.js';

const reading = (ts: number, receivedAt: number): ReceivedReading => ({
  meterId: 'm',
  ts,
  powerW: 0,
  importWh: ts,
  exportWh: 0,
  voltageV: null,
  frequencyHz: null,
  quality: 'good',
  gateway: null,
  signature: null,
  receivedAt,
});

it('a series out of a block of readings is the ledger’s selection: the readings received by the cut-off in the window, SERIES_EXTRA_READINGS of them either side, or none when the block cannot show them', () => {
  let partial = 0;
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 40 }),
      fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 40, maxLength: 40 }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 0, max: 20 }),
      fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
      fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
      (tss, receipts, from, len, by, beforeReceipt, afterReceipt) => {
        const list = [...tss].sort((a, b) => a - b).map((ts, i) => reading(ts, receipts[i]!));
        const to = from + len;
        const block = {
          byMeter: new Map([['m', list]]),
          beyond: (_: string, side: 'before' | 'after') => (side === 'before' ? beforeReceipt : afterReceipt),
        };
        const out: ReceivedReading[] = [];
        const got = seriesFromBlock(block, 'm', from, to, by, out);
        // The selection written plainly (ledger/meter-data.ts meterSeriesReadings on the block).
        const known = list.filter((r) => r.receivedAt <= by);
        const before = known.filter((r) => r.ts < from).slice(-SERIES_EXTRA_READINGS);
        const after = known.filter((r) => r.ts > to).slice(0, SERIES_EXTRA_READINGS);
        const none = (receipt: number | null) => receipt === null || receipt > by;
        const shown =
          (before.length === SERIES_EXTRA_READINGS || none(beforeReceipt)) &&
          (after.length === SERIES_EXTRA_READINGS || none(afterReceipt));
        assert.equal(got, shown);
        if (!shown) return;
        if (before.length < SERIES_EXTRA_READINGS || after.length < SERIES_EXTRA_READINGS) partial++;
        assert.deepEqual(out, [...before, ...known.filter((r) => r.ts >= from && r.ts <= to), ...after]);
      },
    ),
    fcParams('series from a block', { numRuns: 2_000 }),
  );
  assert.ok(partial > 50, `${partial} series short of extra readings, shown complete by the receipts beyond`);
});
