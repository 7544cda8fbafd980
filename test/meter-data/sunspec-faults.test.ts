import { it } from 'node:test';
import assert from 'node:assert/strict';
import { FLOW, normalMinute, START, startHouseholds, type Households } from './household.js';
import { rows, signedRows, vee } from './expect.js';

/**
 * The SunSpec household device (test/meter-data/peers/sunspec_device.py)
 * misbehaving as real firmware does, read by the real bridge from the
 * operator's microgrid.yaml. These pin what the bridge read and signed into
 * the ledger, reading by reading; the meter-data scenarios
 * (meter-data-scenarios.test.ts) take the same devices on to interval
 * energies, statements and credits.
 */

const E = FLOW.exportPerMinWh;
const P = FLOW.pvPerMinWh;
const I = FLOW.importPerMinWh;
/** h1's grid meter and inverter, h2's SDM630, in a normal minute k. */
const h1Grid = (k: number): [number, number, number] => [START.h1Imp, START.h1Exp + E * k, -E * 60];
const h1Pv = (k: number): [null, number, number] => [null, START.pv + P * k, -P * 60];
const h2Grid = (k: number): [number, number, number] => [START.h2Imp + I * k, 0, I * 60];

async function withHouseholds(
  o: Parameters<typeof startHouseholds>[0],
  fn: (h: Households) => Promise<void>,
): Promise<void> {
  const h = await startHouseholds(o);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

it('TotWh_SF glitches 0 → 1 for two polls with the raw counters unchanged: the bridge signs ten times the counters, then the true ones again', () =>
  withHouseholds({ h1RatedPowerW: 5000 }, async (h) => {
    await h.run(0, 15, async (k) => {
      if (k === 7) await h.sunspec.send('glitch 1');
      if (k === 9) await h.sunspec.send('unglitch');
      await normalMinute(h, k);
    });
    // The raw registers froze at minute 6's values; the scale factor said ×10.
    const glitched: [number, number, number] = [START.h1Imp * 10, (START.h1Exp + E * 6) * 10, -E * 60];
    assert.deepEqual(
      await signedRows(h.sc, 'h1-grid', 0, 15),
      rows(0, 15, (k) => (k === 7 || k === 8 ? glitched : h1Grid(k))),
    );
    assert.deepEqual(await signedRows(h.sc, 'h1-pv', 0, 15), rows(0, 15, h1Pv));
    assert.deepEqual(await signedRows(h.sc, 'h2-grid', 0, 15), rows(0, 15, h2Grid));
    assert.deepEqual(await h.sunspec.state().then((s) => [s.raw_imp, s.raw_exp]), [START.h1Imp, START.h1Exp + E * 15]);
    // The published rules: the glitch interval held with its reason, no energy from the ×10 readings,
    // and the next interval actual from the last trusted reading, to the Wh.
    assert.deepEqual(vee(h.sc, 'h1-grid', 'grid', 5000, 3), [
      [0, 0, 300, 'actual', null, []],
      [5, 0, 300, 'held', null, ['VEE_SCALE_FACTOR_GLITCH', 'VEE_SCALE_FACTOR_GLITCH', 'VEE_GAP']],
      [10, 0, 300, 'actual', null, []],
    ]);
  }));

it('TotWh_SF changes 0 → 1 consistently: counters arrive in 10 Wh steps, import 4 Wh and export 3 Wh lower at the change (rounding)', () =>
  withHouseholds({ h1RatedPowerW: 5000, h1Counters: { imp: 1_000_004, exp: 500_003 } }, async (h) => {
    await h.run(0, 15, async (k) => {
      if (k === 7) await h.sunspec.send('sf 1');
      await normalMinute(h, k);
    });
    assert.deepEqual(
      await signedRows(h.sc, 'h1-grid', 0, 15),
      rows(0, 15, (k) =>
        k < 7 ? [1_000_004, 500_003 + E * k, -E * 60] : [1_000_000, Math.floor((500_003 + E * k) / 10) * 10, -E * 60],
      ),
    );
    // A step back within the 10 Wh resolution is rounding: every interval actual, the change interval 3 Wh short (the
    // meter's rounding).
    assert.deepEqual(vee(h.sc, 'h1-grid', 'grid', 5000, 3), [
      [0, 0, 300, 'actual', null, []],
      [5, 0, 297, 'actual', null, []],
      [10, 0, 300, 'actual', null, []],
    ]);
  }));

it('the meter resets its counters to 0: import reads "not implemented" (acc32 0) until it counts again, export restarts from 0', () =>
  withHouseholds({ h1RatedPowerW: 5000 }, async (h) => {
    await h.run(0, 15, async (k) => {
      if (k === 7) await h.sunspec.send('reset');
      await normalMinute(h, k);
      if (k === 12) await h.sunspec.send('add imp=30');
    });
    assert.deepEqual(
      await signedRows(h.sc, 'h1-grid', 0, 15),
      rows(0, 15, (k) => (k < 7 ? h1Grid(k) : [k < 12 ? null : 30, E * (k - 6), -E * 60])),
    );
    // Held while the counter is back at 0: import 0 is acc32's "not implemented", so those readings carry no
    // import at all and the rules cannot use them (a gap until import counts again at minute 12). Across the
    // reset (minute 6 → 12) the energy is estimated: export by the power readings, 3,600 W × 6 min = 360 Wh
    // (what flowed), import at least the 30 Wh the counter counted from 0; apportioned by time.
    assert.deepEqual(vee(h.sc, 'h1-grid', 'grid', 5000, 3), [
      [0, 0, 300, 'actual', null, []],
      [5, 20, 300, 'held', null, ['VEE_COUNTER_BACKWARDS', 'VEE_GAP', 'VEE_RESET_ESTIMATED', 'VEE_RESET_ESTIMATED']],
      [10, 10, 300, 'held', null, ['VEE_COUNTER_BACKWARDS', 'VEE_GAP', 'VEE_RESET_ESTIMATED', 'VEE_RESET_ESTIMATED']],
    ]);
  }));

it('the device goes offline for three intervals and comes back with advanced counters: no readings in between, the device offline, then the counters where the energy took them', () =>
  withHouseholds({ h1RatedPowerW: 5000 }, async (h) => {
    await h.run(0, 20, async (k) => {
      if (k === 3) await h.sunspec.send('offline');
      if (k === 18) await h.sunspec.send('online');
      await normalMinute(h, k);
    });
    const seen = (k: number) => k < 3 || k >= 18;
    assert.deepEqual(
      await signedRows(h.sc, 'h1-grid', 0, 20),
      rows(0, 20, (k) => (seen(k) ? h1Grid(k) : null)),
    );
    assert.deepEqual(
      await signedRows(h.sc, 'h1-pv', 0, 20),
      rows(0, 20, (k) => (seen(k) ? h1Pv(k) : null)),
    );
    // The other household's meter is read every minute meanwhile.
    assert.deepEqual(await signedRows(h.sc, 'h2-grid', 0, 20), rows(0, 20, h2Grid));
    const health = h.sc.events
      .filter((e) => e.type === 'device-health' && e.deviceId === 'h1-device')
      .map((e) => (e.type === 'device-health' ? e.status : ''));
    assert.ok(health.includes('offline'), JSON.stringify(health));
    assert.equal(health.at(-1), 'online');
    // The counters on both sides bridge the gap (minute 2 → 18): estimated by time, to the Wh of the counter delta.
    const est = (wh: number, k: number) => [5 * k, 0, wh, 'estimated', 'time-apportioned', ['VEE_GAP']];
    assert.deepEqual(
      vee(h.sc, 'h1-grid', 'grid', 5000, 4),
      [0, 1, 2, 3].map((k) => est(300, k)),
    );
    assert.deepEqual(
      vee(h.sc, 'h1-pv', 'pv', 5000, 4),
      [0, 1, 2, 3].map((k) => est(400, k)),
    );
    assert.deepEqual(
      vee(h.sc, 'h2-grid', 'grid', 24_150, 4),
      [0, 1, 2, 3].map((k) => [5 * k, 500, 0, 'actual', null, []]),
    );
  }));

it('the inverter sleeps at night: SLEEPING with power 0 keeps its counter; with SunSpec "not implemented" sentinels the bridge reads nulls, never 0', () =>
  withHouseholds({ h1RatedPowerW: 5000 }, async (h) => {
    // Asleep (minutes 4–10) h1 has no solar: its house draws 1.2 kW from the grid.
    const asleep = (k: number) => k >= 4 && k < 11;
    await h.run(0, 15, async (k) => {
      if (k === 4) await h.sunspec.send('sleep');
      if (k === 7) await h.sunspec.send('sleep sentinels');
      if (k === 11) await h.sunspec.send('wake');
      if (k === 4) await h.sunspec.send('grid w=1200');
      if (k === 11) await h.sunspec.send(`grid w=${-E * 60}`);
      if (k > 0) await h.sunspec.send(asleep(k) ? 'add imp=20' : `add exp=${E} pv=${P}`);
      if (k > 0) await h.sdm.send(`add imp=${I}`);
    });
    const awake = (k: number) => Math.min(k, 3) + Math.max(0, k - 10);
    assert.deepEqual(
      await signedRows(h.sc, 'h1-pv', 0, 15),
      rows(0, 15, (k) =>
        !asleep(k)
          ? [null, START.pv + P * awake(k), -P * 60]
          : k < 7
            ? [null, START.pv + P * 3, 0]
            : [null, null, null],
      ),
    );
    assert.deepEqual(
      await signedRows(h.sc, 'h1-grid', 0, 15),
      rows(0, 15, (k) => [START.h1Imp + 20 * (k - awake(k)), START.h1Exp + E * awake(k), asleep(k) ? 1200 : -E * 60]),
    );
    // Asleep with sentinels the inverter gives no counter: a gap, bridged by its counters on both sides (80 Wh, by
    // time).
    assert.deepEqual(vee(h.sc, 'h1-pv', 'pv', 5000, 3), [
      [0, 0, 240, 'actual', null, []],
      [5, 0, 64, 'estimated', 'time-apportioned', ['VEE_GAP']],
      [10, 0, 336, 'estimated', 'time-apportioned', ['VEE_GAP']],
    ]);
    assert.deepEqual(vee(h.sc, 'h1-grid', 'grid', 5000, 3), [
      [0, 40, 180, 'actual', null, []],
      [5, 100, 0, 'actual', null, []],
      [10, 0, 300, 'actual', null, []],
    ]);
  }));
