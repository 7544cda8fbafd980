import { invalid } from '../../core/errors.js';
import { BusPool } from '../../meter-bridge/transport/bus-pool.js';
import { SunSpecReader } from '../../meter-bridge/sunspec/device.js';
import { sunSpecModel } from '../../meter-bridge/sunspec/models.js';
import type { BusSpec } from '../../meter-bridge/transport/types.js';
import { loadProfile } from '../../meter-bridge/profiles/load.js';
import { ProfileReader } from '../../meter-bridge/profiles/device.js';
import type { Measurement } from '../../meter-bridge/devices/measurement.js';
import type { Command } from './command.js';
import { configSnippet } from './config-snippet.js';

function readingLines(readings: Measurement[]): string[] {
  const f = (v: number | null, unit: string): string => (v === null ? 'n/a' : `${v} ${unit}`);
  return readings.map(
    (r) =>
      `  ${r.meterId}: power ${f(r.powerW, 'W')}, import ${f(r.importWh, 'Wh')}, export ${f(r.exportWh, 'Wh')}, ${f(r.voltageV, 'V')}, ${f(r.frequencyHz, 'Hz')}`,
  );
}

/**
 * `mgx scan --host H [--unit U]`: what a SunSpec device is and what it
 * measures now — the model chain (id, address, length, whether the bridge
 * knows it) and one decoded reading. Like `evcc sunspec`. With `--profile
 * NAME` a non-SunSpec meter is read through that register map instead. Either
 * way it ends with the config lines for the device, ready to paste.
 */
export const scanCommand: Command = {
  name: 'scan',
  summary: 'print what a Modbus device is (SunSpec models, or --profile NAME), its live values and its config lines',
  usage: `      --host H         Modbus TCP host (or --rtu PATH for a serial port)
      --port N         TCP port (default 502)
      --rtu PATH       serial port (RS485 adapter), with --baud N (default 9600)
      --unit U         unit id (default 1)
      --profile NAME   read a non-SunSpec meter through a register-map profile (sdm630, sdm120, em24 or a file)
      --timeout MS     request timeout (default 1000)
      --format F       text (default) or json`,
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    rtu: { type: 'string' },
    baud: { type: 'string' },
    unit: { type: 'string' },
    profile: { type: 'string' },
    timeout: { type: 'string' },
    format: { type: 'string' },
  },
  async run(ctx) {
    const host = ctx.values.host;
    const rtu = ctx.values.rtu;
    if ((typeof host !== 'string') === (typeof rtu !== 'string'))
      throw invalid('USAGE', '--host', host ?? rtu, 'either --host H (Modbus TCP) or --rtu PATH (serial)');
    const format = ctx.values.format ?? 'text';
    if (format !== 'text' && format !== 'json') throw invalid('USAGE', '--format', format, 'text or json');
    const unitId = intArg(ctx.values.unit, '--unit', 0, 247, 1);
    const spec: BusSpec =
      typeof host === 'string'
        ? { type: 'tcp', host, port: intArg(ctx.values.port, '--port', 1, 65535, 502) }
        : {
            type: 'rtu',
            path: rtu as string,
            baudRate: intArg(ctx.values.baud, '--baud', 1200, 921600, 9600),
            parity: 'none',
          };
    const pool = new BusPool({ timeoutMs: intArg(ctx.values.timeout, '--timeout', 10, 60_000, 1000), retries: 1 });
    try {
      if (typeof ctx.values.profile === 'string') {
        const name = ctx.values.profile;
        const profile = loadProfile(name);
        const reader = new ProfileReader({ deviceId: 'scan', bus: pool.get(spec), unitId, profile });
        const readings = await reader.read();
        const config = configSnippet({ kind: 'profile', profile: name, spec, unitId, grid: true, pv: false });
        if (format === 'json') {
          ctx.stdout.write(
            `${JSON.stringify({ profile: profile.name, bus: pool.get(spec).key, unitId, readings, config }, null, 2)}\n`,
          );
          return 0;
        }
        const out = [
          `${profile.name} (profile ${name}) at ${pool.get(spec).key} unit ${unitId}`,
          '',
          '  reading (W: + import / − export)',
          ...readingLines(readings),
          `  ${reader.requestsPerRead} request(s) per reading`,
          '',
          config,
        ];
        ctx.stdout.write(`${out.join('\n')}`);
        return 0;
      }
      const probe = new SunSpecReader({ deviceId: 'scan', bus: pool.get(spec), unitId });
      const found = await probe.discover();
      // Show every model the bridge reads: the meter and the inverter, when the device has both.
      const has = (ids: number[]): boolean => found.models.some((m) => ids.includes(m.id));
      const meters: { grid?: string; pv?: string } = {};
      if (has([201, 202, 203, 204, 211, 212, 213, 214])) meters.grid = 'meter';
      if (has([101, 102, 103, 111, 112, 113, 701])) meters.pv = 'inverter';
      const reader = new SunSpecReader({ deviceId: 'scan', bus: pool.get(spec), unitId, meters });
      const report = await reader.discover();
      const readings = await reader.read();
      const config = configSnippet({
        kind: 'sunspec',
        spec,
        unitId,
        grid: meters.grid !== undefined,
        pv: meters.pv !== undefined,
      });
      if (format === 'json') {
        ctx.stdout.write(`${JSON.stringify({ ...report, readings, config }, null, 2)}\n`);
        return 0;
      }
      const out: string[] = [];
      const c = report.common;
      out.push(`SunSpec device at ${pool.get(spec).key} unit ${unitId}, base ${report.base}`);
      if (c)
        out.push(
          `  ${c.manufacturer ?? '?'} ${c.model ?? '?'}  serial ${c.serial ?? '?'}  version ${c.version ?? '?'}`,
        );
      out.push('', '  model  address  length  name');
      for (const m of report.models) {
        out.push(
          `  ${String(m.id).padStart(5)}  ${String(m.address).padStart(7)}  ${String(m.length).padStart(6)}  ${m.known ? sunSpecModel(m.id)!.name : '(unknown: skipped)'}`,
        );
      }
      out.push('', '  reading (W: + import / − export)');
      out.push(...readingLines(readings));
      out.push(`  ${reader.requestsPerRead} request(s) per reading`, '', config);
      ctx.stdout.write(`${out.join('\n')}`);
      return 0;
    } finally {
      await pool.close();
    }
  },
};

/** An integer option within [min, max], or `def` when absent (shared by the bridge commands). */
export function intArg(v: unknown, field: string, min: number, max: number, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || n < min || n > max)
    throw invalid('USAGE', field, v, `an integer from ${min} to ${max}`);
  return n;
}
