import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { isMqttDevice, type Config, type ModbusDeviceConfig, type MqttDeviceConfig } from '../core/config/schema.js';
import { MicrogridError } from '../core/errors.js';
import { resolveSecret } from '../core/config/secrets.js';
import type { StartBridgeOptions } from './bridge.js';
import type { BridgeDevice } from './bridge-device.js';
import type { BridgeLogger } from './logger.js';
import { createInfluxSink, type InfluxSink } from './sinks/influx.js';
import { startSimulatedHousehold, type SimulatedHousehold } from './simulators/household.js';

/**
 * Turns `bridge.devices` and the participants' meters of microgrid.yaml into
 * the bridge's devices: a meter `{ id, role, device }` names the device that
 * measures it; role `grid` takes the device's meter model, `pv` its inverter
 * model. `kind: simulated` devices are SunSpec devices served by a simulator.
 */
export function devicesFromConfig(config: Config): BridgeDevice[] {
  const meters = config.participants.flatMap((p) => p.meters);
  return config.bridge.devices.map((d, i) => {
    const mine = meters.filter((m) => m.device === d.id);
    const grid = mine.find((m) => m.role === 'grid');
    const pv = mine.find((m) => m.role === 'pv');
    const rated = d.ratedPowerW ?? grid?.ratedPowerW ?? pv?.ratedPowerW;
    if (isMqttDevice(d)) return mqttDevice(config, d, i, grid, pv, rated);
    const mt = (d as ModbusDeviceConfig).transport;
    const transport =
      mt.type === 'tcp'
        ? { type: 'tcp' as const, host: mt.host, port: mt.port }
        : { type: 'rtu' as const, path: mt.path, baudRate: mt.baudRate, parity: mt.parity };
    const base = { id: d.id, transport, unitId: d.unitId, ...(rated ? { ratedPowerW: rated } : {}) };
    if (d.kind === 'profile') {
      if (!d.profile)
        throw new MicrogridError('CONFIG_INVALID', 'a profile device needs a profile', {
          field: `bridge.devices[${i}].profile`,
          value: d.profile,
          expected: 'sdm630, sdm120, em24 or the path of a profile file',
        });
      if (pv)
        throw new MicrogridError('CONFIG_INVALID', 'a profile meter measures one meter', {
          field: `participants.meters.${pv.id}.role`,
          value: 'pv',
          expected: 'grid (profile meters have no inverter model), or a separate device',
        });
      return { ...base, kind: 'profile' as const, profile: d.profile, ...(grid ? { meterId: grid.id } : {}) };
    }
    const m: { grid?: string; pv?: string } = {};
    if (grid) m.grid = grid.id;
    if (pv) m.pv = pv.id;
    return { ...base, kind: 'sunspec' as const, ...(grid || pv ? { meters: m } : {}) };
  });
}

type MeterConfig = Config['participants'][number]['meters'][number];

/**
 * An MQTT meter (tasmota, shelly-gen2) is one meter: the participant meter
 * naming it (grid or pv; default the device id, grid). Its broker is the
 * transport's url, else the config's own `mqtt.url`; a username without its
 * own url falls back to `mqtt.username` / `mqtt.password` only when the
 * transport names neither.
 */
function mqttDevice(
  config: Config,
  d: MqttDeviceConfig,
  i: number,
  grid: MeterConfig | undefined,
  pv: MeterConfig | undefined,
  rated: number | undefined,
): BridgeDevice {
  if (grid && pv) {
    throw new MicrogridError(
      'CONFIG_INVALID',
      `an MQTT meter measures one meter; ${grid.id} (grid) and ${pv.id} (pv) both name device ${d.id}`,
      {
        field: `participants.meters.${pv.id}.device`,
        value: d.id,
        expected: 'one meter per tasmota / shelly-gen2 device (give the pv meter its own device)',
      },
    );
  }
  const t = d.transport;
  const url = t.url ?? config.mqtt?.url;
  if (!url)
    throw new MicrogridError('CONFIG_INVALID', 'an MQTT meter needs a broker', {
      field: `bridge.devices[${i}].transport.url`,
      value: undefined,
      expected: 'transport.url, or an mqtt section with url',
    });
  const sameBroker = t.url === undefined && t.username === undefined;
  const username = t.username ?? (sameBroker ? config.mqtt?.username : undefined);
  const password = t.password ?? (sameBroker ? config.mqtt?.password : undefined);
  const meter = grid ?? pv;
  return {
    id: d.id,
    kind: d.kind,
    transport: {
      type: 'mqtt',
      url,
      topic: t.topic,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
    },
    unitId: 0,
    meterId: meter?.id ?? d.id,
    role: meter?.role ?? 'grid',
    ...(d.tasmotaTotal ? { tasmotaTotal: d.tasmotaTotal } : {}),
    ...(rated ? { ratedPowerW: rated } : {}),
  };
}

/** The InfluxDB sink the config asks for (its spool in the data folder), or null without an `influx` section. */
export function influxSinkFromConfig(
  config: Config,
  dataDir: string,
  env: NodeJS.ProcessEnv,
  log?: BridgeLogger,
): InfluxSink | null {
  const i = config.influx;
  if (!i) return null;
  const roles = new Map(config.participants.flatMap((p) => p.meters.map((m) => [m.id, m.role] as const)));
  return createInfluxSink({
    url: i.url,
    org: i.org,
    bucket: i.bucket,
    ...(i.token ? { token: resolveSecret(i.token, 'influx.token', env) } : {}),
    spoolDir: join(dataDir, 'influx-spool'),
    spoolMaxBytes: i.spoolMaxBytes,
    batchSize: i.batchSize,
    flushIntervalMs: i.flushIntervalMs,
    // The `role` tag lets a dashboard tell generation (pv) from the grid connection.
    roleOf: (meterId) => roles.get(meterId),
    ...(log ? { log } : {}),
  });
}

export function bridgeOptionsFromConfig(
  config: Config,
): Pick<StartBridgeOptions, 'pollIntervalMs' | 'recordEveryMs' | 'offlineAfterCycles' | 'transport'> {
  const b = config.bridge;
  return {
    pollIntervalMs: b.pollIntervalMs,
    recordEveryMs: b.recordEveryMs,
    offlineAfterCycles: b.offlineAfterCycles,
    transport: { timeoutMs: b.requestTimeoutMs, retries: b.retries, gapMs: b.requestGapMs },
  };
}

export interface DemoDevices {
  devices: BridgeDevice[];
  households: SimulatedHousehold[];
  close(): Promise<void>;
}

/**
 * For the demo (`demo.enabled` and no `bridge.devices`): one simulated
 * household per participant on loopback, its grid meter and (when the
 * participant has a pv meter) inverter read over Modbus TCP like real ones.
 * The TCP request gap is 0: each simulator is its own host. With `stateDir`
 * (the app passes <data>/simulators) each keeps its lifetime counters in
 * household-<participant>.json, so a restart continues them like a real meter.
 */
export async function startDemoDevices(
  config: Config,
  clock: Clock,
  host = '127.0.0.1',
  stateDir?: string,
): Promise<DemoDevices> {
  const households: SimulatedHousehold[] = [];
  const devices: BridgeDevice[] = [];
  try {
    for (const [i, p] of config.participants.entries()) {
      const grid = p.meters.find((m) => m.role === 'grid');
      const pv = p.meters.find((m) => m.role === 'pv');
      if (!grid && !pv) continue;
      const h = await startSimulatedHousehold({
        clock,
        index: i,
        host,
        ...(pv ? {} : { peakPvW: 0 }),
        ...(stateDir ? { stateFile: join(stateDir, `household-${p.id}.json`) } : {}),
      });
      households.push(h);
      const meters: { grid?: string; pv?: string } = {};
      if (grid) meters.grid = grid.id;
      if (pv) meters.pv = pv.id;
      devices.push({
        id: `sim-${p.id}`,
        kind: 'sunspec',
        transport: { type: 'tcp', host: h.host, port: h.port },
        unitId: h.unitId,
        meters,
        ratedPowerW: 20_000,
      });
    }
  } catch (err) {
    await Promise.all(households.map((h) => h.close()));
    throw err;
  }
  return { devices, households, close: async () => void (await Promise.all(households.map((h) => h.close()))) };
}
