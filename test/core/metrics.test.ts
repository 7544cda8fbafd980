import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../core/metrics.js';

test('metrics render in the Prometheus text format', () => {
  const m = new Metrics();
  m.inc('mgx_readings_total', 'Readings received.', { meter: 'h01-grid' });
  m.inc('mgx_readings_total', 'Readings received.', { meter: 'h01-grid' }, 2);
  let offline = 0;
  m.collect(() => m.set('mgx_devices_offline', 'Devices offline now.', offline));
  offline = 3;
  for (const v of [10, 20, 30, 40]) m.observe('mgx_interval_step_seconds', 'Step latency.', v, { step: 'settled' });
  assert.equal(
    m.render(),
    [
      '# HELP mgx_devices_offline Devices offline now.',
      '# TYPE mgx_devices_offline gauge',
      'mgx_devices_offline 3',
      '# HELP mgx_interval_step_seconds Step latency.',
      '# TYPE mgx_interval_step_seconds summary',
      'mgx_interval_step_seconds{quantile="0.5",step="settled"} 30',
      'mgx_interval_step_seconds{quantile="0.9",step="settled"} 40',
      'mgx_interval_step_seconds{quantile="0.99",step="settled"} 40',
      'mgx_interval_step_seconds_sum{step="settled"} 100',
      'mgx_interval_step_seconds_count{step="settled"} 4',
      '# HELP mgx_readings_total Readings received.',
      '# TYPE mgx_readings_total counter',
      'mgx_readings_total{meter="h01-grid"} 3',
      '',
    ].join('\n'),
  );
});

test('label values are escaped and a name keeps its kind', () => {
  const m = new Metrics();
  m.set('g', 'x', 1, { a: 'say "hi"\n' });
  assert.match(m.render(), /g\{a="say \\"hi\\"\\n"\} 1/);
  assert.throws(() => m.inc('g', 'x'), /is a gauge/);
});

test('a described metric serves its HELP and TYPE before it has a value, and keeps its kind', () => {
  const m = new Metrics();
  m.describe('mgx_alarms_total', 'counter', 'Alarms raised, by code.');
  assert.equal(m.render(), '# HELP mgx_alarms_total Alarms raised, by code.\n# TYPE mgx_alarms_total counter\n');
  m.inc('mgx_alarms_total', 'Alarms raised, by code.', { code: 'X' });
  assert.match(m.render(), /^mgx_alarms_total\{code="X"\} 1$/m);
  assert.throws(() => m.describe('mgx_alarms_total', 'gauge', 'x'), /is a counter, not a gauge/);
});
