import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../core/metrics.js';
import { METRICS } from '../../core/metric-names.js';

test('metrics render in the Prometheus text format', async () => {
  const m = new Metrics();
  m.inc(METRICS.readings, {});
  m.inc(METRICS.readings, {}, 2);
  let offline = 0;
  m.collect(() => m.set(METRICS.devices, { status: 'offline' }, offline));
  offline = 3;
  for (const v of [10, 20, 30, 40]) m.observe(METRICS.stepLag, { step: 'settled' }, v);
  const text = await m.render();
  const lines = text.split('\n');
  const after = (header: string): string[] => lines.slice(lines.indexOf(header));
  assert.deepEqual(after('# HELP mgx_devices Devices by health status (online, stale, offline, asleep).').slice(0, 3), [
    '# HELP mgx_devices Devices by health status (online, stale, offline, asleep).',
    '# TYPE mgx_devices gauge',
    'mgx_devices{status="offline"} 3',
  ]);
  assert.deepEqual(after('# TYPE mgx_interval_step_lag_seconds summary').slice(0, 6), [
    '# TYPE mgx_interval_step_lag_seconds summary',
    // prom-client interpolates quantiles (t-digest): the median of 10, 20, 30, 40 is 25.
    'mgx_interval_step_lag_seconds{quantile="0.5",step="settled"} 25',
    'mgx_interval_step_lag_seconds{quantile="0.9",step="settled"} 40',
    'mgx_interval_step_lag_seconds{quantile="0.99",step="settled"} 40',
    'mgx_interval_step_lag_seconds_sum{step="settled"} 100',
    'mgx_interval_step_lag_seconds_count{step="settled"} 4',
  ]);
  assert.deepEqual(after('# TYPE mgx_readings_total counter').slice(0, 2), [
    '# TYPE mgx_readings_total counter',
    'mgx_readings_total 3',
  ]);
});

test('label values are escaped and a name keeps its kind', async () => {
  const m = new Metrics();
  m.set(METRICS.devices, { status: 'say "hi"\n' }, 1);
  assert.match(await m.render(), /mgx_devices\{status="say \\"hi\\"\\n"\} 1/);
  // @ts-expect-error a gauge is not a counter: the table's type decides which methods take it
  assert.throws(() => m.inc(METRICS.devices, { status: 'online' }));
});

test('a described metric serves its HELP and TYPE before it has a value, and keeps its kind', async () => {
  const m = new Metrics();
  assert.match(
    await m.render(),
    /^# HELP mgx_alarms_total Alarms raised, by code\.\n# TYPE mgx_alarms_total counter\n\n/m,
  );
  m.inc(METRICS.alarms, { code: 'X' });
  assert.match(await m.render(), /^mgx_alarms_total\{code="X"\} 1$/m);
  // @ts-expect-error a counter is not a gauge
  assert.throws(() => m.set(METRICS.alarms, { code: 'X' }, 1));
});

test('each instance has its own registry, serving the table and nothing else (no default process metrics)', async () => {
  const a = new Metrics();
  const b = new Metrics();
  a.inc(METRICS.readings, {});
  assert.match(await b.render(), /^mgx_readings_total 0$/m);
  const names = [...(await a.render()).matchAll(/^# TYPE (\S+) /gm)].map((x) => x[1]);
  assert.deepEqual(
    names.sort(),
    Object.values(METRICS)
      .map((d) => d.name)
      .sort(),
  );
});
