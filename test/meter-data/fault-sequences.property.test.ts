import { it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { validateConfig } from '../../core/config/validate.js';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type ReadingEvent } from '../../core/events.js';
import { openLedger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { insertReadings } from '../../ledger/readings.js';
import { listTrades } from '../../ledger/clearing.js';
import { createCycleSteps } from '../../app/cycle-steps.js';
import { settleInterval } from '../../settlement/settle.js';
import { tempDir } from '../helpers/tmp.js';
import { fcParams } from '../helpers/fc.js';

/**
 * Random fault sequences through the app's metering step and settlement:
 * three households, a reading a minute, each household's meter with random
 * faults the peers script (a scale-factor glitch for one or two readings, a
 * consistent change to 10 Wh steps, a reading missing or minutes offline,
 * power that does not move a coarse counter). Whatever the faults:
 *   - credits of an interval = Σ actual export of its producers, never more;
 *   - per meter, Σ interval energies over the run = the counter's delta
 *     (first reading to the highest trusted one), whatever their status;
 *   - no trade has buyer = seller.
 */

const T0 = Date.UTC(2027, 4, 2, 12, 0);
const MIN = 60_000;
const INTERVALS = 6;
const MINUTES = INTERVALS * 5;

type Fault =
  | { kind: 'glitch'; at: number; len: number }
  | { kind: 'sf'; at: number }
  | { kind: 'offline'; at: number; len: number }
  | { kind: 'none' };

const fault: fc.Arbitrary<Fault> = fc.oneof(
  // From minute 2: a glitch right after a meter's very first reading is series-anchor.test.ts (a known failure).
  fc.record({
    kind: fc.constant('glitch' as const),
    at: fc.integer({ min: 2, max: MINUTES - 3 }),
    len: fc.integer({ min: 1, max: 2 }),
  }),
  fc.record({ kind: fc.constant('sf' as const), at: fc.integer({ min: 1, max: MINUTES - 1 }) }),
  fc.record({
    kind: fc.constant('offline' as const),
    at: fc.integer({ min: 1, max: MINUTES - 2 }),
    len: fc.integer({ min: 1, max: 12 }),
  }),
  fc.constant({ kind: 'none' as const }),
);
const household = fc.record({
  importPerMin: fc.integer({ min: 0, max: 80 }),
  exportPerMin: fc.integer({ min: 0, max: 80 }),
  faults: fc.array(fault, { maxLength: 2 }),
});

it('random fault sequences: credits = actual export, Σ energies = counter delta per meter, no self-trade', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(household, { minLength: 3, maxLength: 3 }), async (hs) => {
      const config = validateConfig({
        market: { intervalMinutes: 5 },
        bridge: { pollIntervalMs: 60_000, recordEveryMs: 60_000 },
        participants: hs.map((_, i) => ({
          id: `h${i}`,
          name: `H${i}`,
          meters: [{ id: `h${i}-grid`, role: 'grid', ratedPowerW: 10_000 }],
        })),
      });
      const ledger = openLedger(join(tempDir('mgx-prop-'), 'ledger.sqlite'));
      try {
        for (const p of config.participants) upsertParticipant(ledger, p, 0);
        const first = new Map<string, { imp: number; exp: number }>();
        const last = new Map<string, { imp: number; exp: number }>();
        for (let k = 0; k <= MINUTES; k++) {
          const events: ReadingEvent[] = [];
          hs.forEach((h, i) => {
            const imp = 1_000_017 + h.importPerMin * k;
            const exp = 500_033 + h.exportPerMin * k;
            let shownImp = imp;
            let shownExp = exp;
            for (const f of h.faults) {
              // The last minute is always read: a glitch then silence to the end looks like a lasting jump, which it
              // may be.
              if (f.kind === 'offline' && k >= f.at && k < Math.min(f.at + f.len, MINUTES)) return;
              if (f.kind === 'sf' && k >= f.at) {
                shownImp = Math.floor(shownImp / 10) * 10;
                shownExp = Math.floor(shownExp / 10) * 10;
              }
            }
            for (const f of h.faults) {
              // raw frozen at the minute before, shown ×10
              if (f.kind === 'glitch' && k >= f.at && k < f.at + f.len) {
                shownImp = (1_000_017 + h.importPerMin * (f.at - 1)) * 10;
                shownExp = (500_033 + h.exportPerMin * (f.at - 1)) * 10;
              }
            }
            const id = `h${i}-grid`;
            const glitching = h.faults.some((f) => f.kind === 'glitch' && k >= f.at && k < f.at + f.len);
            if (!glitching) {
              if (!first.has(id)) first.set(id, { imp: shownImp, exp: shownExp });
              // The rules' adjusted counter is the running peak: a step back within the resolution (rounding at an SF
              // change) is not energy.
              const l = last.get(id);
              last.set(id, { imp: Math.max(l?.imp ?? 0, shownImp), exp: Math.max(l?.exp ?? 0, shownExp) });
            }
            events.push({
              type: 'reading',
              meterId: id,
              ts: new Date(T0 + k * MIN).toISOString(),
              powerW: (h.importPerMin - h.exportPerMin) * 60,
              importWh: shownImp,
              exportWh: shownExp,
              voltageV: 230,
              frequencyHz: 50,
              quality: 'good',
            });
          });
          insertReadings(ledger, events, T0 + k * MIN);
        }
        const steps = createCycleSteps({
          ledger,
          config,
          clock: new ManualClock(T0 + (MINUTES + 1) * MIN),
          bus: new EventBus(),
        });
        for (let n = 0; n < INTERVALS; n++) {
          const start = T0 + n * 5 * MIN;
          steps.meter(start);
          const r = settleInterval(ledger, start, config, T0);
          const actualExport = (
            ledger.db
              .prepare(
                "SELECT COALESCE(SUM(export_wh), 0) AS x FROM interval_energy WHERE interval_start = ? AND status = 'actual'",
              )
              .get(start) as { x: number }
          ).x;
          const credited = r.credits.reduce((s, c) => s + c.wh, 0);
          assert.ok(
            credited <= actualExport,
            `${new Date(start).toISOString()}: credits ${credited} Wh ≤ actual export ${actualExport} Wh`,
          );
          assert.equal(credited, r.record.exportWh);
          for (const t of listTrades(ledger, { start })) assert.notEqual(t.buyer, t.seller, 'no self-trade');
        }
        for (const [id, f] of first) {
          // The meter's counter delta over the run, as the last non-glitched reading and the first show it.
          const l = last.get(id)!;
          const sum = ledger.db
            .prepare('SELECT SUM(import_wh) AS i, SUM(export_wh) AS x FROM interval_energy WHERE meter_id = ?')
            .get(id) as { i: number; x: number };
          assert.deepEqual(
            [sum.i, sum.x],
            [l.imp - f.imp, l.exp - f.exp],
            `${id}: Σ interval energies = counter delta`,
          );
        }
      } finally {
        // The step announces each clearing from a microtask that reads the ledger: let it run first.
        await new Promise((r) => setImmediate(r));
        ledger.close();
      }
    }),
    fcParams('fault sequences', { numRuns: 25 }),
  );
});
