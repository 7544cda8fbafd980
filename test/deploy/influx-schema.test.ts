import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INFLUX_SCHEMA, DEVICE_STATUS_CODE } from '../../core/influx-schema.js';
import { influxLine, toLine } from '../../meter-bridge/sinks/line-protocol.js';
import { deviceHealthLine, intervalResultLine } from '../../app/influx-series.js';
import type { ClearingResult } from '../../core/market.js';
import type { StatementRecord } from '../../ledger/statements.js';

test('influxLine writes only the schema’s names: integers with i, nulls left out, tags escaped and in schema order', () => {
  assert.equal(
    influxLine(
      'meter_reading',
      { role: 'pv', meter: 'h 1,=x', quality: 'good' },
      { power_w: -512.5, import_wh: 7, export_wh: null, voltage_v: Number.NaN },
      1_700_000_000_000,
    ),
    'meter_reading,meter=h\\ 1\\,\\=x,quality=good,role=pv import_wh=7i,power_w=-512.5 1700000000000',
  );
  // An integer field that is not a safe integer is left out rather than written wrong.
  assert.equal(influxLine('interval_result', {}, { local_wh: 1.5 }, 0), null);
  assert.throws(
    () => influxLine('meter_reading', {}, { power: 1 } as never, 0),
    /influx field power is not in the schema of meter_reading/,
  );
  assert.throws(
    () => influxLine('meter_reading', { device: 'x' } as never, { power_w: 1 }, 0),
    /influx tag device is not in the schema of meter_reading/,
  );
  assert.throws(() => influxLine('meter_readings' as never, {}, {}, 0), /not in core\/influx-schema\.ts/);
  // The reading line keeps its shape; a reading with no values is still written (field `empty`).
  const r = {
    type: 'reading' as const,
    meterId: 'm1',
    ts: '2026-06-21T08:00:00Z',
    powerW: null,
    importWh: null,
    exportWh: null,
    voltageV: null,
    frequencyHz: null,
    quality: 'missing' as const,
  };
  assert.equal(toLine(r), `meter_reading,meter=m1,quality=missing empty=1i ${Date.parse(r.ts)}`);
});

test('the interval result and device health lines carry the statements’ sums and the status codes', () => {
  const st = (p: string, boughtWh: number, gridImportWh: number, gridExportWh: number) =>
    ({ participant: p, boughtWh, gridImportWh, gridExportWh }) as StatementRecord;
  const metered = { clearingPrice: '0.2500', trades: [{}, {}] } as unknown as ClearingResult;
  assert.equal(
    intervalResultLine(1000, [st('a', 30, 10, 0), st('b', 0, 0, 5)], metered, undefined, 1),
    'interval_result clearing_price=0.25,grid_export_wh=5i,grid_import_wh=10i,local_share=0.75,local_wh=30i,meters_held=1i,trades=2i 1000',
  );
  // Nobody bought: no local share (not 0 %); nothing cleared: no price.
  assert.equal(
    intervalResultLine(1000, [st('a', 0, 0, 9)], undefined, undefined, 0),
    'interval_result grid_export_wh=9i,grid_import_wh=0i,local_wh=0i,meters_held=0i,trades=0i 1000',
  );
  for (const status of INFLUX_SCHEMA.device_health.tagValues.status) {
    assert.equal(
      deviceHealthLine({ deviceId: 'sim-h01', status }, 5),
      `device_health,device=sim-h01,status=${status} online=${status === 'online' || status === 'asleep' ? 1 : 0}i,status_code=${DEVICE_STATUS_CODE[status]}i 5`,
    );
  }
});

test('an integer beyond 2^53 is left out, not rounded (the client would write 2^60 as 1152921504606847000i)', () => {
  assert.equal(influxLine('interval_result', {}, { local_wh: 2 ** 60, trades: 3 }, 0), 'interval_result trades=3i 0');
});
