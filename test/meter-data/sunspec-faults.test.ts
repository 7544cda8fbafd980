import { it } from 'node:test';
import assert from 'node:assert/strict';
import { FLOW, normalMinute, startHouseholds, type Households } from './household.js';
import { rows, signedRows } from './expect.js';

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
const h1Grid = (k: number): [number, number, number] => [1_000_000, 500_000 + E * k, -E * 60];
const h1Pv = (k: number): [null, number, number] => [null, 3_000_000 + P * k, -P * 60];
const h2Grid = (k: number): [number, number, number] => [2_000_000 + I * k, 0, I * 60];

async function withHouseholds(o: Parameters<typeof startHouseholds>[0], fn: (h: Households) => Promise<void>): Promise<void> {
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
    const glitched: [number, number, number] = [10_000_000, (500_000 + E * 6) * 10, -E * 60];
    assert.deepEqual(await signedRows(h.sc, 'h1-grid', 0, 15), rows(0, 15, (k) => (k === 7 || k === 8 ? glitched : h1Grid(k))));
    assert.deepEqual(await signedRows(h.sc, 'h1-pv', 0, 15), rows(0, 15, h1Pv));
    assert.deepEqual(await signedRows(h.sc, 'h2-grid', 0, 15), rows(0, 15, h2Grid));
    assert.deepEqual(await h.sunspec.state().then((s) => [s.raw_imp, s.raw_exp]), [1_000_000, 500_000 + E * 15]);
  }));

it('TotWh_SF changes 0 → 1 consistently: counters arrive in 10 Wh steps, import 4 Wh and export 3 Wh lower at the change (rounding)', () =>
  withHouseholds({ h1RatedPowerW: 5000, h1Counters: { imp: 1_000_004, exp: 500_003 } }, async (h) => {
    await h.run(0, 15, async (k) => {
      if (k === 7) await h.sunspec.send('sf 1');
      await normalMinute(h, k);
    });
    assert.deepEqual(
      await signedRows(h.sc, 'h1-grid', 0, 15),
      rows(0, 15, (k) => (k < 7 ? [1_000_004, 500_003 + E * k, -E * 60] : [1_000_000, Math.floor((500_003 + E * k) / 10) * 10, -E * 60])),
    );
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
  }));

it('the device goes offline for three intervals and comes back with advanced counters: no readings in between, the device offline, then the counters where the energy took them', () =>
  withHouseholds({ h1RatedPowerW: 5000 }, async (h) => {
    await h.run(0, 20, async (k) => {
      if (k === 3) await h.sunspec.send('offline');
      if (k === 18) await h.sunspec.send('online');
      await normalMinute(h, k);
    });
    const seen = (k: number) => k < 3 || k >= 18;
    assert.deepEqual(await signedRows(h.sc, 'h1-grid', 0, 20), rows(0, 20, (k) => (seen(k) ? h1Grid(k) : null)));
    assert.deepEqual(await signedRows(h.sc, 'h1-pv', 0, 20), rows(0, 20, (k) => (seen(k) ? h1Pv(k) : null)));
    // The other household's meter is read every minute meanwhile.
    assert.deepEqual(await signedRows(h.sc, 'h2-grid', 0, 20), rows(0, 20, h2Grid));
    const health = h.sc.events.filter((e) => e.type === 'device-health' && e.deviceId === 'h1-device').map((e) => (e.type === 'device-health' ? e.status : ''));
    assert.ok(health.includes('offline'), JSON.stringify(health));
    assert.equal(health.at(-1), 'online');
  }));

it('the inverter sleeps at night: SLEEPING with power 0 keeps its counter; with SunSpec "not implemented" sentinels the bridge reads nulls, never 0', () =>
  withHouseholds({ h1RatedPowerW: 5000 }, async (h) => {
    await h.run(0, 15, async (k) => {
      if (k === 4) await h.sunspec.send('sleep');
      if (k === 7) await h.sunspec.send('sleep sentinels');
      if (k === 11) await h.sunspec.send('wake');
      if (k > 0 && (k < 4 || k >= 11)) await h.sunspec.send(`add pv=${P}`);
      if (k > 0) await h.sdm.send(`add imp=${I}`);
    });
    // h1 has no solar while the inverter sleeps: its grid meter stands still (no import in this script).
    assert.deepEqual(
      await signedRows(h.sc, 'h1-pv', 0, 15),
      rows(0, 15, (k) => (k < 4 ? h1Pv(k) : k < 7 ? [null, 3_000_000 + P * 3, 0] : k < 11 ? [null, null, null] : [null, 3_000_000 + P * (k - 7), -P * 60])),
    );
  }));
