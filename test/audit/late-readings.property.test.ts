import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EvidenceLoader } from '../../audit/evidence.js';
import { checkEnergy } from '../../audit/check-energy.js';
import { meterDataRulesOf } from '../../audit/meter-data-window.js';
import { estimateExpiredHolds } from '../../settlement/holds.js';
import { listGridSeriesReadings } from '../../ledger/meter-data.js';
import { listGridMeterEnergy } from '../../ledger/interval-energy.js';
import { tempDir } from '../helpers/tmp.js';
import { fcParams } from '../helpers/fc.js';
import { INTERVAL, lateDay, meterId } from './late-readings-day.js';

/**
 * Random outages through the app's metering step: each household's device
 * may be off for a while (those readings never exist) and its gateway's
 * link may be down for a while (those readings, and the ones measured
 * until the link is back, arrive in order when it is: a spool flush); the
 * flush may land in the same millisecond as a metering step, before or
 * after it. Whatever the outages:
 *   - the audit's re-validation (the evidence loader and check 2, as
 *     `mgx audit` runs them) agrees with the engine on every interval, energy,
 *     status, method and reasons;
 *   - the late readings count somewhere: once the holds are decided (the
 *     hold window's estimate, on the readings known then), each meter's
 *     energies — actual and estimated as metered, held ones as decided — add
 *     up to its counter delta over the run, to the Wh.
 */

const INTERVALS = 6;
const END = INTERVALS * 5;

const outage = fc.record({
  deviceOff: fc.option(fc.record({ at: fc.integer({ min: 1, max: END - 3 }), len: fc.integer({ min: 1, max: 12 }) })),
  linkDown: fc.option(fc.record({ at: fc.integer({ min: 1, max: END }), len: fc.integer({ min: 1, max: 15 }) })),
  importPerMin: fc.integer({ min: 0, max: 80 }),
  exportPerMin: fc.integer({ min: 0, max: 80 }),
});

it('random device and link outages: the audit re-validates every interval as the engine metered it, and Σ energies = counter delta per meter', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(outage, { minLength: 3, maxLength: 3 }),
      fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
      async (hs, meterFirst) => {
        const day = await lateDay(tempDir('mgx-late-prop-'), {
          households: hs,
          intervals: INTERVALS,
          meterFirst: (m) => meterFirst[m % meterFirst.length]!,
          deliveredAt: (h, k) => {
            const o = hs[h]!;
            // The device off: no reading; never at the run's end, so the last interval is bracketed.
            if (o.deviceOff && k >= o.deviceOff.at && k < Math.min(o.deviceOff.at + o.deviceOff.len, END)) return null;
            const last = 5 * INTERVALS + 1;
            if (o.linkDown && k >= o.linkDown.at && k < Math.min(o.linkDown.at + o.linkDown.len, last))
              return Math.min(o.linkDown.at + o.linkDown.len, last);
            return k;
          },
        });
        const { ledger, config } = day;
        try {
          const loader = new EvidenceLoader(ledger, INTERVAL, meterDataRulesOf(config));
          const { lookMs } = meterDataRulesOf(config);
          // The ledger's own selection of each interval's series (ledger/meter-data.ts), as [meter, ts, receivedAt].
          const direct = (s: number) =>
            listGridSeriesReadings(ledger, s, s + INTERVAL, lookMs, listGridMeterEnergy(ledger, s)).map((r) => [
              r.meter_id,
              r.ts,
              r.received_at,
            ]);
          const seen = (readings: readonly { meterId: string; ts: number; receivedAt: number }[]) =>
            readings.map((r) => [r.meterId, r.ts, r.receivedAt]);
          for (const s of day.starts) {
            const ev = loader.load(s);
            // The loader reads blocks of intervals at once and picks each series out of them: the same readings.
            assert.deepEqual(seen(ev.readings), direct(s), `${new Date(s).toISOString()}: the ledger's series`);
            const e = checkEnergy(ev);
            assert.deepEqual(
              e.result.failures,
              [],
              `${new Date(s).toISOString()}: the audit re-validates as the engine metered`,
            );
          }
          // Told how many follow (as an audit worker loads its run: the first block serves them all): the same.
          const told = new EvidenceLoader(ledger, INTERVAL, meterDataRulesOf(config));
          day.starts.forEach((s, i) =>
            assert.deepEqual(
              seen(told.load(s, day.starts.length - 1 - i).readings),
              direct(s),
              `${new Date(s).toISOString()} with the intervals that follow`,
            ),
          );
          // Backwards (one interval per block): the same.
          const back = new EvidenceLoader(ledger, INTERVAL, meterDataRulesOf(config));
          for (const s of [...day.starts].reverse())
            assert.deepEqual(seen(back.load(s).readings), direct(s), `${new Date(s).toISOString()} backwards`);
          // The hold window passes: every hold is estimated on the readings known now (all of them).
          estimateExpiredHolds(
            ledger,
            { intervalMs: INTERVAL, rules: { maxGapMs: meterDataRulesOf(config).maxGapMs }, windowMs: 0 },
            day.clock.now() + 1,
          );
          for (let h = 0; h < hs.length; h++) {
            const rows = ledger.db
              .prepare(
                `SELECT e.interval_start AS s, e.status, e.import_wh AS i, e.export_wh AS x, d.decision, d.decided_import_wh AS di, d.decided_export_wh AS dx
               FROM interval_energy e LEFT JOIN meter_data_holds d ON d.interval_start = e.interval_start AND d.meter_id = e.meter_id
               WHERE e.meter_id = ? ORDER BY e.interval_start`,
              )
              .all(meterId(h)) as {
              s: number;
              status: string;
              i: number;
              x: number;
              decision: string | null;
              di: number | null;
              dx: number | null;
            }[];
            assert.equal(rows.length, INTERVALS);
            const used = rows.map((r) =>
              r.status === 'held'
                ? (assert.ok(r.decision, `${meterId(h)} ${new Date(r.s).toISOString()} decided`), [r.di!, r.dx!])
                : [r.i, r.x],
            );
            const sum = used.reduce((a, [i, x]) => [a[0]! + i!, a[1]! + x!], [0, 0]);
            const first = day.counter(h, 0);
            const last = day.counter(h, END);
            assert.deepEqual(
              sum,
              [last.importWh - first.importWh, last.exportWh - first.exportWh],
              `${meterId(h)}: Σ energies = counter delta (${JSON.stringify(rows.map((r) => [r.status, r.i, r.x, r.di, r.dx]))})`,
            );
          }
        } finally {
          // The step announces each clearing from a microtask that reads the ledger: let it run first.
          await new Promise((r) => setImmediate(r));
          ledger.close();
        }
      },
    ),
    fcParams('late readings', { numRuns: 30 }),
  );
});
