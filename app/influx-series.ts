import type { Clock } from '../core/clock.js';
import type { DeviceHealthEvent, EventBus } from '../core/events.js';
import { parseUtc } from '../core/interval.js';
import { DEVICE_STATUS_CODE } from '../core/influx-schema.js';
import type { ClearingResult } from '../core/market.js';
import type { Ledger } from '../ledger/ledger.js';
import { getClearing } from '../ledger/clearing.js';
import { countMeterHolds } from '../ledger/meter-data.js';
import { listIntervalStatements, type StatementRecord } from '../ledger/statements.js';
import { influxLine } from '../meter-bridge/sinks/line-protocol.js';

/** Where the lines go: the InfluxDB sink's `writeLines` (same batches, same spool as the readings). */
export interface LineWriter {
  writeLines(lines: readonly string[]): void;
}

/**
 * The `interval_result` line of a settled interval, from its statements and
 * clearing results: what Grafana's price, energy and local-share panels read.
 * Local share is of what households bought: traded locally over traded
 * locally plus still imported from the grid after trading.
 */
export function intervalResultLine(
  start: number,
  statements: readonly StatementRecord[],
  metered: ClearingResult | undefined,
  forward: ClearingResult | undefined,
  metersHeld: number,
): string | null {
  const sum = (k: 'boughtWh' | 'gridImportWh' | 'gridExportWh'): number => statements.reduce((s, r) => s + r[k], 0);
  const localWh = sum('boughtWh');
  const gridImportWh = sum('gridImportWh');
  return influxLine(
    'interval_result',
    {},
    {
      // The metered clearing is the market every household is in; forward trades count in the energies and trades.
      clearing_price: metered?.clearingPrice == null ? null : Number(metered.clearingPrice),
      local_wh: localWh,
      grid_import_wh: gridImportWh,
      grid_export_wh: sum('gridExportWh'),
      local_share: localWh + gridImportWh > 0 ? localWh / (localWh + gridImportWh) : null,
      trades: (metered?.trades.length ?? 0) + (forward?.trades.length ?? 0),
      meters_held: metersHeld,
    },
    start,
  );
}

export function deviceHealthLine(h: Pick<DeviceHealthEvent, 'deviceId' | 'status'>, ts: number): string {
  const code = DEVICE_STATUS_CODE[h.status];
  return influxLine(
    'device_health',
    { device: h.deviceId, status: h.status },
    { status_code: code, online: h.status === 'online' || h.status === 'asleep' ? 1 : 0 },
    ts,
  )!;
}

export interface InfluxSeriesOptions {
  bus: EventBus;
  ledger: Ledger;
  clock: Clock;
  sink: LineWriter;
  /** Every device's health now (the bridge's `health()`). */
  devices: () => readonly Pick<DeviceHealthEvent, 'deviceId' | 'status'>[];
  onError?: (err: unknown) => void;
}

/**
 * Writes the engine's own measurements when InfluxDB is configured: an
 * `interval_result` when an interval becomes settled (its statements exist
 * then), and `device_health` on every change and for every device when an
 * interval ends — so a dashboard range that starts after the last change still
 * shows each device's status. Times are market time, as the readings'.
 * Returns the function that unsubscribes.
 */
export function startInfluxSeries(o: InfluxSeriesOptions): () => void {
  const guard = (fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      o.onError?.(err);
    }
  };
  const offs = [
    o.bus.on('interval-state', (e) => {
      if (e.state === 'settled') {
        guard(() => {
          const start = parseUtc(e.interval, 'interval');
          const line = intervalResultLine(
            start,
            listIntervalStatements(o.ledger, start),
            getClearing(o.ledger, start, 'metered'),
            getClearing(o.ledger, start, 'forward'),
            countMeterHolds(o.ledger, { intervalStart: start }),
          );
          if (line) o.sink.writeLines([line]);
        });
      } else if (e.state === 'delivered') {
        guard(() => {
          const ts = Date.parse(e.at);
          o.sink.writeLines(o.devices().map((h) => deviceHealthLine(h, ts)));
        });
      }
    }),
    o.bus.on('device-health', (e) => guard(() => o.sink.writeLines([deviceHealthLine(e, o.clock.now())]))),
  ];
  return () => offs.forEach((off) => off());
}
