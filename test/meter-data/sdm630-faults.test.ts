import { it } from 'node:test';
import assert from 'node:assert/strict';
import { at, startHouseholds, T0, type HouseholdOptions, type Households } from './household.js';
import { rows, signedRows } from './expect.js';

/**
 * The SDM630-style meter (test/meter-data/peers/sdm630_meter.py, from
 * Eastron's public register map) read through the project's built-in
 * `sdm630` profile: coarse counters (10 Wh and 100 Wh steps) polled once a
 * minute (like --speed 60 with 1 s polls) and once a second of market time
 * (--speed 1), and a counter reset over Modbus RTU (socat pty pair). What the
 * bridge read and signed, reading by reading.
 */

/** h2 imports 37 Wh a minute (2.22 kW): a flow that is no multiple of the resolution. */
const PER_MIN = 37;
const trueImport = (ms: number): number => 2_000_000 + Math.floor((PER_MIN * ms) / 60_000);
const shown = (wh: number, res: number): number => Math.floor(wh / res) * res;

async function withMeter(o: HouseholdOptions, fn: (h: Households) => Promise<void>): Promise<void> {
  const h = await startHouseholds(o);
  try {
    await h.sdm.send(`grid w=${PER_MIN * 60}`);
    await fn(h);
  } finally {
    await h.close();
  }
}

for (const res of [10, 100]) {
  it(`${res} Wh counter resolution polled once a minute: the bridge signs the counter in ${res} Wh steps`, () =>
    withMeter({ sdmResolutionWh: res }, async (h) => {
      await h.run(0, 20, (k) => h.sdm.send(`grid imp=${trueImport(k * 60_000)}`));
      assert.deepEqual(await signedRows(h.sc, 'h2-grid', 0, 20), rows(0, 20, (k) => [shown(trueImport(k * 60_000), res), 0, PER_MIN * 60]));
    }));
}

it('100 Wh counter resolution polled every second of market time: every recorded reading is the meter\'s value at its time, at least one a minute', () =>
  withMeter({ sdmResolutionWh: 100 }, async (h) => {
    for (let s = 0; s <= 600; s++) {
      await h.sdm.send(`grid imp=${trueImport(s * 1000)}`);
      await h.sc.pollAt(T0 + s * 1000);
    }
    const rs = h.sc.readings('h2-grid', T0, at(10) + 1);
    for (const r of rs) assert.equal(r.importWh, shown(trueImport(r.ts - T0), 100), `reading at ${new Date(r.ts).toISOString()}`);
    for (let m = 0; m < 10; m++) assert.ok(rs.some((r) => r.ts >= at(m) && r.ts < at(m + 1)), `a reading in minute ${m}`);
    assert.ok(rs.every((r) => r.signature));
  }));

it('over Modbus RTU (socat pty pair) the SDM630 resets its counters to 0.0 kWh: a real 0, then counting again', () =>
  withMeter({ sdmResolutionWh: 10, sdmOverRtu: true }, async (h) => {
    let imp = 2_000_000;
    await h.run(0, 15, async (k) => {
      if (k === 7) {
        await h.sdm.send('reset');
        imp = 0;
      } else if (k > 0) imp += 100;
      await h.sdm.send(`grid imp=${imp}`);
    });
    assert.deepEqual(await signedRows(h.sc, 'h2-grid', 0, 15), rows(0, 15, (k) => [k < 7 ? 2_000_000 + 100 * k : 100 * (k - 7), 0, PER_MIN * 60]));
  }));
