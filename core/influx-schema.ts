/**
 * Every measurement, tag and field the engine writes to InfluxDB, in one
 * place. The writers build their lines through `influxLine`
 * (meter-bridge/sinks/line-protocol.ts), whose types accept only the names
 * listed here and which refuses any other at run time; the Grafana dashboard
 * (deploy/grafana/dashboards/microgrid.json) is checked against this table by
 * test/deploy/grafana-dashboard.test.ts. So a dashboard query and a writer
 * cannot drift apart without a failing build or test.
 *
 * Units are in the names (`_w`, `_wh`, `_v`, `_hz`), as the ledger has them:
 * Wh stay Wh here (integers, the ledger's own unit); only Prometheus metrics
 * use joules (see core/metric-names.ts).
 */

export type InfluxFieldType = 'float' | 'integer';

export interface InfluxMeasurement {
  /** What one point is. */
  description: string;
  /** Tag keys, in the (sorted) order they are written. */
  tags: readonly string[];
  /**
   * The values a tag can take, where they are a closed set (a dashboard filter on another value would match nothing).
   */
  tagValues?: Readonly<Record<string, readonly string[]>>;
  fields: Readonly<Record<string, { type: InfluxFieldType; description: string }>>;
}

export const INFLUX_SCHEMA = {
  meter_reading: {
    description: 'one reading of one meter, at the time it was taken (market time)',
    tags: ['meter', 'quality', 'role'],
    tagValues: { quality: ['good', 'suspect', 'missing'], role: ['grid', 'pv'] },
    fields: {
      power_w: {
        type: 'float',
        description:
          'active power, W; + import from the grid (grid meter) or consumption, − export or generation (pv meter)',
      },
      import_wh: { type: 'integer', description: 'lifetime import counter, Wh' },
      export_wh: { type: 'integer', description: 'lifetime export counter, Wh' },
      voltage_v: { type: 'float', description: 'voltage, V (when the device reports it)' },
      frequency_hz: { type: 'float', description: 'grid frequency, Hz (when the device reports it)' },
      empty: { type: 'integer', description: '1 when the device reported no value at all (a line needs a field)' },
    },
  },
  interval_result: {
    description: 'one settled interval, at its start (market time)',
    tags: [],
    fields: {
      clearing_price: {
        type: 'float',
        description: 'the metered clearing price, currency per kWh (absent when nothing cleared)',
      },
      local_wh: { type: 'integer', description: 'energy traded between households (forward and metered), Wh' },
      grid_import_wh: { type: 'integer', description: 'energy households still took from the grid after trading, Wh' },
      grid_export_wh: { type: 'integer', description: 'energy households still sent to the grid after trading, Wh' },
      local_share: {
        type: 'float',
        description:
          'local_wh / (local_wh + grid_import_wh): the share of what households bought that neighbours supplied, 0–1 (absent when they bought nothing)',
      },
      trades: { type: 'integer', description: 'number of trades (forward and metered)' },
      meters_held: { type: 'integer', description: 'meters whose data for this interval was held by validation' },
    },
  },
  device_health: {
    description: 'the health of one device: on every change, and for every device at the end of every interval',
    tags: ['device', 'status'],
    tagValues: { status: ['online', 'stale', 'offline', 'asleep'] },
    fields: {
      status_code: {
        type: 'integer',
        description:
          '0 offline, 1 stale, 2 asleep, 3 online (a string field is not graphable everywhere: victoria-metrics stores one as 0)',
      },
      online: { type: 'integer', description: '1 when online or asleep (answering), else 0' },
    },
  },
} as const satisfies Record<string, InfluxMeasurement>;

export type InfluxMeasurementName = keyof typeof INFLUX_SCHEMA;
export type InfluxTagOf<M extends InfluxMeasurementName> = (typeof INFLUX_SCHEMA)[M]['tags'][number];
export type InfluxFieldOf<M extends InfluxMeasurementName> = keyof (typeof INFLUX_SCHEMA)[M]['fields'] & string;

/** device_health's status_code, so a Grafana value mapping and the writer agree. */
export const DEVICE_STATUS_CODE = { offline: 0, stale: 1, asleep: 2, online: 3 } as const;
