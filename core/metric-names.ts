/**
 * Every Prometheus metric the engine serves on `/metrics`, in one table: the
 * app feeds them by these names, the alert rules (deploy/prometheus/alerts.yml)
 * use them, and test/deploy/prometheus.test.ts checks a real scrape against
 * this table and the naming rules below.
 *
 * Naming (Prometheus conventions, https://prometheus.io/docs/practices/naming/):
 * - prefix `mgx_`, snake_case;
 * - base units, named as a suffix: `_seconds`, `_bytes`, `_watts`, and
 *   `_joules` for energy (the SI unit Prometheus uses; 1 Wh = 3600 J). The
 *   ledger and InfluxDB keep Wh (core/influx-schema.ts); only metrics convert;
 * - counters end in `_total` (after the unit), nothing else does;
 * - a count of things needs no unit (`mgx_devices`), a ratio ends `_ratio`,
 *   a 0/1 state ends `_up` (like Prometheus's own `up`).
 */

export type MetricType = 'counter' | 'gauge' | 'summary';

export interface MetricDef {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
}

export const METRICS = {
  readings: {
    name: 'mgx_readings_total',
    type: 'counter',
    help: 'Readings received from the meter bridge.',
    labels: [],
  },
  alarms: { name: 'mgx_alarms_total', type: 'counter', help: 'Alarms raised, by code.', labels: ['code'] },
  gasUsed: {
    name: 'mgx_gas_used_total',
    type: 'counter',
    help: 'Gas used by settlement transactions, by contract action.',
    labels: ['action'],
  },
  stepLag: {
    name: 'mgx_interval_step_lag_seconds',
    type: 'summary',
    help: 'Market seconds from the end of an interval to each of its lifecycle steps.',
    labels: ['step'],
  },
  devices: {
    name: 'mgx_devices',
    type: 'gauge',
    help: 'Devices by health status (online, stale, offline, asleep).',
    labels: ['status'],
  },
  settlementBacklog: {
    name: 'mgx_settlement_backlog',
    type: 'gauge',
    help: 'Intervals waiting for settlement (metered) or the chain (settled, committed), by state.',
    labels: ['state'],
  },
  chainUp: {
    name: 'mgx_chain_up',
    type: 'gauge',
    help: '1 when the chain RPC answered the last probe or settlement call, 0 when it did not.',
    labels: [],
  },
  meterDataHeld: {
    name: 'mgx_meter_data_held',
    type: 'gauge',
    help: 'Meter-intervals held by validation and waiting for an operator decision.',
    labels: [],
  },
  deviceMessagesRejected: {
    name: 'mgx_device_messages_rejected_total',
    type: 'counter',
    help: 'MQTT meter messages refused as not a valid payload (no reading stored), by device.',
    labels: ['device'],
  },
  deviceMessagesDropped: {
    name: 'mgx_device_messages_dropped_total',
    type: 'counter',
    help: 'MQTT meter measurements dropped for arriving within one poll period of the last one taken, by device.',
    labels: ['device'],
  },
  mqttRejected: {
    name: 'mgx_mqtt_messages_rejected_total',
    type: 'counter',
    help: 'MQTT readings messages dropped, by reason.',
    labels: ['reason'],
  },
  mqttAccepted: {
    name: 'mgx_mqtt_readings_accepted_total',
    type: 'counter',
    help: 'Readings taken over MQTT that were new to the ledger.',
    labels: [],
  },
  mqttDuplicate: {
    name: 'mgx_mqtt_readings_duplicate_total',
    type: 'counter',
    help: 'Readings received over MQTT that the ledger already had (resends).',
    labels: [],
  },
} as const satisfies Record<string, MetricDef>;

/** The naming rules above as a check; returns what is wrong with a metric, or nothing. */
export function metricNameProblems(name: string, type: MetricType): string[] {
  const p: string[] = [];
  if (!/^mgx_[a-z][a-z0-9_]*[a-z0-9]$/.test(name) || name.includes('__'))
    p.push(`${name}: not mgx_ followed by snake_case`);
  if (type === 'counter' && !name.endsWith('_total')) p.push(`${name}: a counter must end in _total`);
  if (type !== 'counter' && name.endsWith('_total')) p.push(`${name}: only counters end in _total`);
  // Non-base units a metric must not carry (milliseconds, minutes, kilo-anything, Wh: use seconds, joules, watts,
  // bytes).
  const unit = name.replace(/_total$/, '');
  for (const bad of [
    '_ms',
    '_milliseconds',
    '_minutes',
    '_hours',
    '_days',
    '_kb',
    '_mb',
    '_kilobytes',
    '_megabytes',
    '_wh',
    '_kwh',
    '_watt_hours',
    '_kw',
    '_kilowatts',
    '_percent',
  ]) {
    if (unit.endsWith(bad) || unit.includes(`${bad}_`))
      p.push(`${name}: ${bad.slice(1)} is not a base unit (seconds, bytes, joules, watts, ratio)`);
  }
  return p;
}
