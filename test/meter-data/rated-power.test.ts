import { it } from 'node:test';
import assert from 'node:assert/strict';
import { meterRatedPowers } from '../../ledger/meter-data.js';
import { ratedPowers } from '../../app/rated-power.js';
import { parseProfile } from '../../meter-bridge/profiles/load.js';
import { parseConfigText } from '../../core/config/validate.js';
import { MINUTE, startScenario } from './scenario.js';
import { householdsYaml, normalMinute, startHouseholds, T0, type Households } from './household.js';
import { freePort } from '../../meter-bridge/simulators/free-port.js';

/**
 * Rated power from the device: the independent SunSpec peer serves nameplate
 * model 120; the bridge reads WRtg × 10^WRtg_SF at discovery for the
 * inverter's pv meter, the app stores it with its source, warns only for
 * meters with none, and the meter data rules validate with it.
 */

const rows = (h: Households) => meterRatedPowers(h.sc.ledger).map((r) => [r.meterId, r.ratedPowerW, r.source]);

async function day(rated: string, minutes: number, o: { h1RatedPowerW?: number } = {}): Promise<Households> {
  const h = await startHouseholds(o);
  try {
    await h.sunspec.send(`rated ${rated}`);
    // Before the first poll (discovery) only config and the defaults are known.
    assert.deepEqual(rows(h), [
      ['h1-grid', o.h1RatedPowerW ?? 24_150, o.h1RatedPowerW ? 'config' : 'default'],
      ['h1-pv', 10_000, 'default'],
      ['h2-grid', 24_150, 'default'],
    ]);
    await h.run(0, minutes, (k) => normalMinute(h, k));
  } catch (e) {
    await h.close();
    throw e;
  }
  return h;
}

it('model 120 WRtg × 10^WRtg_SF rates the pv meter (source device), the rules use it, and only meters with none are warned about', async () => {
  // 36 × 10^2 = 3,600 W: below the 4.8 kW the peer's PV makes, so the figure must reach validation to hold it.
  const h = await day('36 2', 10);
  try {
    assert.deepEqual(rows(h), [
      ['h1-grid', 24_150, 'default'],
      ['h1-pv', 3600, 'device'],
      ['h2-grid', 24_150, 'default'],
    ]);
    assert.deepEqual(h.sc.log, [
      'warn: 2 meter(s) have no ratedPowerW (config participants[].meters[] or bridge.devices[], nor from the device): validated with the role default (grid 24150 W, pv 10000 W): h1-grid, h2-grid',
      'info: meter h1-pv: rated 3600 W from the device (SunSpec model 120 WRtg 36 × 10^2 W)',
    ]);
    h.sc.meter(T0);
    const pv = h.sc.ledger.db
      .prepare("SELECT status, reasons FROM interval_energy WHERE meter_id = 'h1-pv' AND interval_start = ?")
      .get(T0) as { status: string; reasons: string };
    assert.equal(pv.status, 'held');
    const reasons = JSON.parse(pv.reasons) as { code: string; message: string }[];
    assert.equal(reasons[0]!.code, 'VEE_ABOVE_RATED_POWER');
    assert.match(
      reasons[0]!.message,
      /exportWh rose 80 Wh in 60 s .* above 3600 W rated × \(1 \+ 0\.1\) \+ 1 Wh = 67 Wh/,
    );
  } finally {
    await h.close();
  }
});

it('a nameplate that says "not implemented" (WRtg 0xFFFF, WRtg_SF 0x8000) gives no rating: the role default, warned after discovery', async () => {
  const h = await day('none', 1);
  try {
    assert.deepEqual(rows(h), [
      ['h1-grid', 24_150, 'default'],
      ['h1-pv', 10_000, 'default'],
      ['h2-grid', 24_150, 'default'],
    ]);
    assert.deepEqual(h.sc.log, [
      'warn: 2 meter(s) have no ratedPowerW (config participants[].meters[] or bridge.devices[], nor from the device): validated with the role default (grid 24150 W, pv 10000 W): h1-grid, h2-grid',
      'warn: 1 meter(s) have no ratedPowerW (config participants[].meters[] or bridge.devices[], nor from the device): validated with the role default (grid 24150 W, pv 10000 W): h1-pv',
    ]);
  } finally {
    await h.close();
  }
});

it('config wins over the device: a meter ratedPowerW in microgrid.yaml is kept whatever model 120 says', async () => {
  const sunspecPort = await freePort();
  const yaml = householdsYaml({ sunspecPort, sdm: { port: await freePort() } }).replace(
    '{ id: h1-pv, role: pv, device: h1-device }',
    '{ id: h1-pv, role: pv, device: h1-device, ratedPowerW: 6000 }',
  );
  const config = parseConfigText(yaml, 'microgrid.yaml');
  assert.deepEqual(
    ratedPowers(config, [
      { meterId: 'h1-pv', ratedPowerW: 3600, from: 'SunSpec model 120' },
      { meterId: 'h2-grid', ratedPowerW: 9000, from: 'profile x ratedPowerW' },
    ]).map((r) => [r.meterId, r.ratedPowerW, r.source]),
    [
      ['h1-grid', 24_150, 'default'],
      ['h1-pv', 6000, 'config'],
      ['h2-grid', 9000, 'device'],
    ],
  );
  // The same through the running bridge and ledger: the peer says 3,600 W, the config 6,000 W.
  const { startPeer } = await import('./peer-process.js');
  const peer = await startPeer('sunspec', { tcp: sunspecPort });
  // h2's meter is not served here: its device stays unreachable, which changes nothing of h1's.
  const sc = await startScenario(yaml, T0);
  try {
    await peer.send('rated 36 2');
    await sc.pollAt(T0 + MINUTE);
    assert.deepEqual(
      meterRatedPowers(sc.ledger).map((r) => [r.meterId, r.ratedPowerW, r.source]),
      [
        ['h1-grid', 24_150, 'default'],
        ['h1-pv', 6000, 'config'],
        ['h2-grid', 24_150, 'default'],
      ],
    );
  } finally {
    await sc.close();
    await peer.stop();
  }
});

it('a profile may carry ratedPowerW (validated, named in the error); the built-in meter profiles carry none', () => {
  const base = { name: 'inv', points: [{ name: 'powerW', register: 0, fc: 3, type: 'int16' }] };
  assert.equal(parseProfile({ ...base, ratedPowerW: 4600 }, 'inv.json').ratedPowerW, 4600);
  assert.equal(parseProfile(base, 'inv.json').ratedPowerW, undefined);
  assert.throws(
    () => parseProfile({ ...base, ratedPowerW: 0 }, 'inv.json'),
    (e: Error & { field?: string; value?: unknown }) => e.field === 'inv.json: ratedPowerW' && e.value === 0,
  );
  assert.throws(() => parseProfile({ ...base, ratedPowerW: '5 kW' }, 'inv.json'), /invalid profile entry/);
});
