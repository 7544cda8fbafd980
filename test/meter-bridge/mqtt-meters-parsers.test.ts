import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fcParams } from '../helpers/fc.js';
import { isMicrogridError } from '../../core/errors.js';
import { parseTasmotaLwt, parseTasmotaSensor } from '../../meter-bridge/devices/tasmota.js';
import { parseShellyEm, parseShellyEmData, parseShellyOnline } from '../../meter-bridge/devices/shelly-gen2.js';
import { createPushMeter } from '../../meter-bridge/devices/mqtt-meter.js';
import { kWhToWh, MAX_PAYLOAD_BYTES } from '../../meter-bridge/devices/payload.js';
import { shellyEm, shellyEmData, tasmotaSensor, TASMOTA_3PHASE } from './mqtt-meters/payloads.js';

/** Asserts METER_PAYLOAD_INVALID naming `field` (and the value, when given) in its message. */
function refused(fn: () => unknown, field: string, value?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isMicrogridError(e, 'METER_PAYLOAD_INVALID'), `METER_PAYLOAD_INVALID, got ${String(e)}`);
    assert.equal(e.field, field);
    assert.ok(e.message.includes(field), e.message);
    if (value) assert.match(e.message, value);
    return true;
  });
}

test('tasmota: a single-phase SENSOR becomes power, import, export, voltage, frequency in the bridge units', () => {
  assert.deepEqual(
    parseTasmotaSensor(
      tasmotaSensor({ importWh: 1_234_567, exportWh: 89_012, powerW: -1200, voltageV: 230.8, frequencyHz: 50.02 }),
    ),
    {
      powerW: -1200,
      importWh: 1_234_567,
      exportWh: 89_012,
      voltageV: 230.8,
      frequencyHz: 50.02,
    },
  );
  // No ExportActive (a plug that only draws), no Frequency: null, never 0.
  assert.deepEqual(parseTasmotaSensor(tasmotaSensor({ importWh: 3, powerW: 17, voltageV: 235 })), {
    powerW: 17,
    importWh: 3,
    exportWh: null,
    voltageV: 235,
    frequencyHz: null,
  });
});

test('tasmota: a three-phase SENSOR sums power and export over the phases, takes L1 voltage', () => {
  assert.deepEqual(parseTasmotaSensor(TASMOTA_3PHASE), {
    powerW: -750,
    importWh: 5_321_004,
    exportWh: 4_000,
    voltageV: 230.1,
    frequencyHz: 50.01,
  });
  // SetOption129 1 prints Total per phase too.
  assert.equal(parseTasmotaSensor('{"ENERGY":{"Total":[1.001,2.002,3.003],"Power":[1,2,3]}}').importWh, 6006);
});

test('tasmota: tasmotaTotal net — a chip metering both ways counts Total as import − export', () => {
  // ADE7953 (Shelly EM under Tasmota): Total 10.500 kWh net, ExportActive 2.250 kWh → import 12.750 kWh.
  const p = '{"ENERGY":{"Total":10.500,"ExportActive":2.250,"Power":-300,"Voltage":230}}';
  assert.deepEqual(parseTasmotaSensor(p, 'net'), {
    powerW: -300,
    importWh: 12_750,
    exportWh: 2_250,
    voltageV: 230,
    frequencyHz: null,
  });
  assert.equal(parseTasmotaSensor(p, 'import').importWh, 10_500);
  // A phase that exported more than it ever imported has a negative net Total: still a valid import.
  assert.equal(parseTasmotaSensor('{"ENERGY":{"Total":-1.000,"ExportActive":3.000,"Power":0}}', 'net').importWh, 2000);
  refused(
    () => parseTasmotaSensor('{"ENERGY":{"Total":1.0,"Power":0}}', 'net'),
    'ENERGY.ExportActive',
    /import = Total \+ ExportActive/,
  );
});

test('tasmota: bad payloads are refused naming the field and the value', () => {
  refused(() => parseTasmotaSensor('not json'), '(payload)', /"not json"/);
  refused(() => parseTasmotaSensor('{"ENERGY":{"Total":nan,"Power":0}}'), '(payload)', /nan or inf/);
  refused(() => parseTasmotaSensor('[1,2]'), '(payload)', /a JSON object/);
  refused(
    () => parseTasmotaSensor('{"Time":"2026-06-21T12:00:00","AM2301":{"Temperature":21.3}}'),
    'ENERGY',
    /no energy monitor/,
  );
  refused(() => parseTasmotaSensor('{"ENERGY":"on"}'), 'ENERGY', /"on"/);
  refused(() => parseTasmotaSensor('{"ENERGY":{"Power":5}}'), 'ENERGY.Total');
  refused(
    () => parseTasmotaSensor('{"ENERGY":{"Total":-0.001,"Power":5}}'),
    'ENERGY.Total',
    /^ENERGY\.Total: tasmota SENSOR message refused; got -0\.001; expected kWh ≥ 0$/,
  );
  refused(() => parseTasmotaSensor('{"ENERGY":{"Total":"1.5","Power":5}}'), 'ENERGY.Total', /"1\.5"/);
  refused(() => parseTasmotaSensor('{"ENERGY":{"Total":1.5,"Power":[1,"x",3]}}'), 'ENERGY.Power[1]', /"x"/);
  refused(() => parseTasmotaSensor('{"ENERGY":{"Total":1.5,"Power":[]}}'), 'ENERGY.Power');
  refused(() => parseTasmotaSensor('{"ENERGY":{"Total":1.5,"Power":5,"Voltage":99999}}'), 'ENERGY.Voltage', /99999/);
  refused(() => parseTasmotaSensor('{"ENERGY":{"Total":1.5,"Power":1e12}}'), 'ENERGY.Power');
  refused(() => parseTasmotaSensor('{"ENERGY":{"Total":1e300,"Power":1}}'), 'ENERGY.Total');
  refused(
    () => parseTasmotaSensor('{"ENERGY":{"Total":1.5,"ExportActive":-2,"Power":1}}'),
    'ENERGY.ExportActive',
    /-2/,
  );
  const huge = `{"ENERGY":{"Total":1.5,"Power":1},"pad":"${'x'.repeat(MAX_PAYLOAD_BYTES)}"}`;
  refused(() => parseTasmotaSensor(huge), '(payload)', /bytes/);
});

test('tasmota LWT and shelly online: exactly the firmware words', () => {
  assert.equal(parseTasmotaLwt('Online'), true);
  assert.equal(parseTasmotaLwt(Buffer.from('Offline')), false);
  refused(() => parseTasmotaLwt('online'), '(payload)');
  assert.equal(parseShellyOnline('true'), true);
  assert.equal(parseShellyOnline('false'), false);
  refused(() => parseShellyOnline('1'), '(payload)');
});

test('shelly-gen2: em:0 gives total power (− when returning), phase A voltage and frequency; emdata:0 the Wh counters, floored', () => {
  assert.deepEqual(parseShellyEm(shellyEm(-1820.4, 236.1, 49.98)), {
    powerW: -1820,
    voltageV: 236.1,
    frequencyHz: 49.98,
  });
  assert.deepEqual(parseShellyEmData(shellyEmData(4306.86, 2776.58)), { importWh: 4306, exportWh: 2776 });
  // Power rounds half away from zero, as the Modbus path does: −1234.5 W of export is −1235 W like +1234.5 W is 1235 W.
  assert.equal(parseShellyEm('{"id":0,"total_act_power":-1234.5}').powerW, -1235);
  assert.equal(parseShellyEm('{"id":0,"total_act_power":1234.5}').powerW, 1235);
  assert.equal(parseTasmotaSensor('{"ENERGY":{"Total":1,"Power":[-0.3,-0.2]}}').powerW, -1);
  refused(() => parseShellyEm('{"id":0,"a_voltage":230}'), 'total_act_power');
  refused(() => parseShellyEm('{"id":0,"total_act_power":"951.2"}'), 'total_act_power', /"951\.2"/);
  refused(() => parseShellyEm('{"id":0,"total_act_power":5,"a_freq":-1}'), 'a_freq', /-1/);
  refused(() => parseShellyEmData('{"id":0,"total_act":-5,"total_act_ret":0}'), 'total_act', /-5/);
  refused(() => parseShellyEmData('{"id":0,"total_act":5}'), 'total_act_ret');
  refused(() => parseShellyEmData('{"id":0,"total_act":5,"total_act_ret":null}'), 'total_act_ret');
});

test('shelly-gen2 meter: a reading when emdata:0 arrives, with the last em:0 if fresh; role pv swaps the directions', () => {
  const m = createPushMeter({
    deviceId: 's1',
    kind: 'shelly-gen2',
    topic: 'shellypro3em-a1',
    meterId: 's1-grid',
    role: 'grid',
  });
  assert.deepEqual(m.topics, [
    'shellypro3em-a1/status/em:0',
    'shellypro3em-a1/status/emdata:0',
    'shellypro3em-a1/online',
  ]);
  assert.deepEqual(m.handle('shellypro3em-a1/status/em:0', Buffer.from(shellyEm(500)), 1000), { type: 'none' });
  assert.deepEqual(m.handle('shellypro3em-a1/status/emdata:0', Buffer.from(shellyEmData(100, 20)), 2000), {
    type: 'measurement',
    measurement: {
      meterId: 's1-grid',
      powerW: 500,
      voltageV: 230.4,
      frequencyHz: 50,
      importWh: 100,
      exportWh: 20,
      counterWrapWh: null,
    },
  });
  // An em:0 more than a minute old is not this reading's power.
  const stale = m.handle('shellypro3em-a1/status/emdata:0', Buffer.from(shellyEmData(101, 20)), 62_001);
  assert.equal(stale.type === 'measurement' && stale.measurement.powerW, null);
  const pv = createPushMeter({ deviceId: 't2', kind: 'tasmota', topic: 'balcony', meterId: 't2-pv', role: 'pv' });
  const ev = pv.handle('tele/balcony/SENSOR', Buffer.from(tasmotaSensor({ importWh: 4321, powerW: 600 })), 0);
  assert.deepEqual(ev, {
    type: 'measurement',
    measurement: {
      meterId: 't2-pv',
      powerW: -600,
      importWh: null,
      exportWh: 4321,
      voltageV: 231,
      frequencyHz: null,
      counterWrapWh: null,
    },
  });
  assert.deepEqual(pv.handle('tele/balcony/LWT', Buffer.from('Offline'), 0), { type: 'availability', online: false });
});

test('kWh printed with up to 3 decimals is exactly that many Wh (binary floating point notwithstanding)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 50 }), (wh) => kWhToWh(Number((wh / 1000).toFixed(3))) === wh),
    fcParams('kWhToWh', { numRuns: 2000 }),
  );
  // More decimals (EnergyRes 5) floor to the whole Wh below.
  assert.equal(kWhToWh(1.23456), 1234);
});

test('any payload on a meter topic is either a measurement with finite values and whole, non-negative counters, or METER_PAYLOAD_INVALID — never another error', () => {
  const meters = [
    createPushMeter({ deviceId: 't', kind: 'tasmota', topic: 't', meterId: 't', role: 'grid' }),
    createPushMeter({ deviceId: 'n', kind: 'tasmota', topic: 'n', meterId: 'n', role: 'grid', tasmotaTotal: 'net' }),
    createPushMeter({ deviceId: 's', kind: 'shelly-gen2', topic: 's', meterId: 's', role: 'pv' }),
  ];
  const num = fc.oneof(fc.double(), fc.integer(), fc.constant(-0), fc.constant(1e308));
  const hostile = fc.oneof(
    num,
    fc.array(num, { maxLength: 10 }),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.dictionary(fc.string(), num),
  );
  // Mostly plausible values (so valid messages are reached), sometimes hostile ones.
  const plausible = fc.oneof(
    fc.double({ min: 0, max: 100_000, noNaN: true }),
    fc.integer({ min: -20_000, max: 20_000 }),
  );
  const value = fc.oneof(
    { arbitrary: plausible, weight: 6 },
    { arbitrary: fc.array(plausible, { minLength: 1, maxLength: 3 }), weight: 2 },
    { arbitrary: hostile, weight: 1 },
  );
  const opt = { requiredKeys: [] as never[] };
  const structured = fc.oneof(
    fc
      .record(
        {
          ENERGY: fc.oneof(
            {
              arbitrary: fc.record(
                { Total: value, ExportActive: value, Power: value, Voltage: value, Frequency: value },
                opt,
              ),
              weight: 5,
            },
            { arbitrary: hostile, weight: 1 },
          ),
        },
        opt,
      )
      .map((o) => JSON.stringify(o)),
    fc
      .record({ total_act_power: value, a_voltage: value, a_freq: value, total_act: value, total_act_ret: value }, opt)
      .map((o) => JSON.stringify(o)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
  );
  let measured = 0;
  const topics = ['tele/t/SENSOR', 'tele/t/LWT', 'tele/n/SENSOR', 's/status/em:0', 's/status/emdata:0', 's/online'];
  fc.assert(
    fc.property(fc.constantFrom(...topics), structured, (topic, payload) => {
      for (const m of meters) {
        if (!m.topics.includes(topic)) continue;
        let ev;
        try {
          ev = m.handle(topic, Buffer.from(payload), 0);
        } catch (e) {
          if (!isMicrogridError(e, 'METER_PAYLOAD_INVALID')) throw e;
          continue;
        }
        if (ev.type !== 'measurement') continue;
        measured++;
        const x = ev.measurement;
        for (const c of [x.importWh, x.exportWh])
          assert.ok(c === null || (Number.isSafeInteger(c) && c >= 0), `counter ${String(c)} from ${payload}`);
        for (const v of [x.powerW, x.voltageV, x.frequencyHz])
          assert.ok(v === null || Number.isFinite(v), `value ${String(v)} from ${payload}`);
      }
    }),
    fcParams('mqtt-meter payloads', { numRuns: 3000 }),
  );
  console.log(`valid messages among them: ${measured}`);
  assert.ok(measured > 10, `the generator reaches valid payloads too (${measured})`);
});
