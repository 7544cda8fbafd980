import { join } from 'node:path';
import { EventBus } from '../../core/events.js';
import { systemClock } from '../../core/clock.js';
import { MicrogridError } from '../../core/errors.js';
import { startBridge, type ReadingSink } from '../../meter-bridge/bridge.js';
import { bridgeOptionsFromConfig, devicesFromConfig, influxSinkFromConfig } from '../../meter-bridge/config.js';
import { loadGatewayKey } from '../../meter-bridge/readings/gateway-key.js';
import { createPushSink } from '../../meter-bridge/sinks/push.js';
import { loadConfig } from '../load-config.js';
import { createLogger } from '../logger.js';
import { installSignalHandlers } from '../shutdown.js';
import { dataDirOf, type Command } from './command.js';

/**
 * `mgx bridge`: the meter bridge as its own process, for a gateway in a
 * household: polls `bridge.devices`, signs readings with the gateway key
 * (`<data-dir>/gateway.key`, created on first start) and pushes them to the
 * engine at `bridge.push.url`; InfluxDB too when `influx` is configured.
 */
export const bridgeCommand: Command = {
  name: 'bridge',
  summary: 'run the meter bridge alone and push signed readings to the engine over HTTP',
  usage: `      --engine URL     engine base URL (default: bridge.push.url)`,
  options: { engine: { type: 'string' } },
  async run(ctx) {
    const cfgPath = ctx.values.config;
    const { config } = loadConfig({ path: typeof cfgPath === 'string' ? cfgPath : undefined, env: ctx.env, cwd: ctx.cwd });
    const log = createLogger(ctx.env.MGX_LOG_LEVEL ?? config.logLevel);
    const dataDir = dataDirOf(ctx);
    const engine = typeof ctx.values.engine === 'string' ? ctx.values.engine : config.bridge.push?.url;
    if (!engine || !/^https?:\/\//.test(engine)) throw new MicrogridError('USAGE', 'the bridge needs the engine URL', { field: '--engine', value: engine, expected: 'an http(s) URL, or bridge.push.url in the configuration' });
    const devices = devicesFromConfig(config);
    if (devices.length === 0) throw new MicrogridError('CONFIG_INVALID', 'no devices to poll', { field: 'bridge.devices', value: [], expected: 'at least one device' });
    const signer = loadGatewayKey(dataDir);
    const sinks: ReadingSink[] = [createPushSink({ url: engine, spoolDir: join(dataDir, 'push-spool'), spoolMaxBytes: config.bridge.push?.spoolMaxBytes ?? 64 * 1024 * 1024, log })];
    const influx = influxSinkFromConfig(config, dataDir, ctx.env, log);
    if (influx) sinks.push(influx);
    const bus = new EventBus();
    bus.on('device-health', (h) => log.info({ device: h.deviceId, status: h.status, lastError: h.lastError }, 'device health'));
    const bridge = startBridge({ devices, clock: systemClock, bus, sinks, signer, log, ...bridgeOptionsFromConfig(config) });
    log.info({ gateway: signer.address, engine, devices: devices.length }, 'bridge running; register the gateway address for its meters');
    ctx.stdout.write(`gateway ${signer.address}\n`);
    installSignalHandlers(() => bridge.stop(), log);
    await new Promise<never>(() => {});
    return 0;
  },
};
