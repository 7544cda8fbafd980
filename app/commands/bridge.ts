import { join } from 'node:path';
import { EventBus } from '../../core/events.js';
import { ScaledClock, systemClock, type Clock } from '../../core/clock.js';
import type { Config } from '../../core/config/schema.js';
import { resolveSecret } from '../../core/config/secrets.js';
import { MicrogridError } from '../../core/errors.js';
import { startBridge } from '../../meter-bridge/bridge.js';
import type { ReadingSink } from '../../meter-bridge/sinks/reading-sink.js';
import { bridgeOptionsFromConfig, devicesFromConfig, influxSinkFromConfig } from '../../meter-bridge/config.js';
import { loadGatewayKey } from '../../meter-bridge/readings/gateway-key.js';
import { createMqttSink } from '../../meter-bridge/sinks/mqtt.js';
import { createPushSink } from '../../meter-bridge/sinks/push.js';
import { loadConfig } from '../load-config.js';
import { createLogger, type Logger } from '../logger.js';
import { installSignalHandlers } from '../shutdown.js';
import { dataDirOf, type Command, type CommandContext } from './command.js';

type Target = { kind: 'http'; url: string } | { kind: 'mqtt'; url: string };

/** `--engine` or `--mqtt`; else `bridge.push.url` (HTTP), else `mqtt.url`. */
function targetOf(ctx: CommandContext, config: Config): Target {
  const engine = typeof ctx.values.engine === 'string' ? ctx.values.engine : undefined;
  const broker = typeof ctx.values.mqtt === 'string' ? ctx.values.mqtt : undefined;
  if (engine && broker)
    throw new MicrogridError('USAGE', 'the bridge sends to the engine over HTTP or MQTT, not both', {
      field: '--mqtt',
      value: broker,
      expected: 'either --engine URL or --mqtt URL',
    });
  if (broker ?? (!engine && !config.bridge.push && config.mqtt)) {
    const url = broker ?? config.mqtt!.url;
    if (!/^(mqtts?|wss?):\/\//.test(url))
      throw new MicrogridError('USAGE', 'the bridge needs the broker URL', {
        field: '--mqtt',
        value: url,
        expected: 'an MQTT URL such as mqtt://broker.local:1883 (mqtt, mqtts, ws or wss)',
      });
    return { kind: 'mqtt', url };
  }
  const url = engine ?? config.bridge.push?.url;
  if (!url || !/^https?:\/\//.test(url))
    throw new MicrogridError('USAGE', 'the bridge needs the engine URL or the broker URL', {
      field: '--engine',
      value: url,
      expected: 'an http(s) URL (or bridge.push.url), or --mqtt URL (or mqtt.url) in the configuration',
    });
  return { kind: 'http', url };
}

/**
 * Market time for reading timestamps: wall time, or the config's simulated clock (`clock.speed`, `clock.startAt`) for a
 * simulation's gateway.
 */
function clockOf(config: Config): Clock {
  if (config.clock.speed === 1 && !config.clock.startAt) return systemClock;
  return new ScaledClock(config.clock.speed, config.clock.startAt ? Date.parse(config.clock.startAt) : Date.now());
}

function sinkOf(
  target: Target,
  config: Config,
  dataDir: string,
  env: NodeJS.ProcessEnv,
  address: string,
  log: Logger,
): ReadingSink {
  if (target.kind === 'http')
    return createPushSink({
      url: target.url,
      spoolDir: join(dataDir, 'push-spool'),
      spoolMaxBytes: config.bridge.push?.spoolMaxBytes ?? 64 * 1024 * 1024,
      log,
    });
  const m = config.mqtt;
  return createMqttSink({
    url: target.url,
    ...(m?.username ? { username: m.username } : {}),
    ...(m?.password ? { password: resolveSecret(m.password, 'mqtt.password', env) } : {}),
    topics: { prefix: m?.topicPrefix ?? 'mgx', microgrid: config.microgrid.id },
    gateway: address,
    spoolDir: join(dataDir, 'mqtt-spool'),
    spoolMaxBytes: config.bridge.push?.spoolMaxBytes ?? 64 * 1024 * 1024,
    maxMessageBytes: Math.min(60_000, config.server.bodyLimitBytes),
    log,
  });
}

/**
 * `mgx bridge`: the meter bridge as its own process, for a gateway in a
 * household: polls `bridge.devices`, signs readings with the gateway key
 * (`<data-dir>/gateway.key`, created on first start) and sends them to the
 * engine: POST /api/readings (`--engine`, `bridge.push.url`) or MQTT
 * (`--mqtt`, `mqtt.url`: `<mqtt.topicPrefix>/<microgrid.id>/readings/<meter>`).
 * InfluxDB too when `influx` is configured.
 */
export const bridgeCommand: Command = {
  name: 'bridge',
  summary: 'run the meter bridge alone and send signed readings to the engine over HTTP or MQTT',
  usage: `      --engine URL     engine base URL (default: bridge.push.url)
      --mqtt URL       publish to this MQTT broker instead (default: mqtt.url when bridge.push is absent)`,
  options: { engine: { type: 'string' }, mqtt: { type: 'string' } },
  async run(ctx) {
    const cfgPath = ctx.values.config;
    const { config } = loadConfig({
      path: typeof cfgPath === 'string' ? cfgPath : undefined,
      env: ctx.env,
      cwd: ctx.cwd,
    });
    const log = createLogger(ctx.env.MGX_LOG_LEVEL ?? config.logLevel);
    const dataDir = dataDirOf(ctx);
    const target = targetOf(ctx, config);
    const devices = devicesFromConfig(config);
    if (devices.length === 0)
      throw new MicrogridError('CONFIG_INVALID', 'no devices to poll', {
        field: 'bridge.devices',
        value: [],
        expected: 'at least one device',
      });
    const signer = loadGatewayKey(dataDir);
    const sinks: ReadingSink[] = [
      sinkOf(
        target,
        config,
        dataDir,
        ctx.env,
        signer.address,
        log.child({ module: target.kind === 'mqtt' ? 'mqtt' : 'push' }),
      ),
    ];
    const influx = influxSinkFromConfig(config, dataDir, ctx.env, log);
    if (influx) sinks.push(influx);
    const bus = new EventBus();
    bus.on('device-health', (h) =>
      log.info({ device: h.deviceId, status: h.status, lastError: h.lastError }, 'device health'),
    );
    const bridge = startBridge({
      devices,
      clock: clockOf(config),
      bus,
      sinks,
      signer,
      log,
      ...bridgeOptionsFromConfig(config),
    });
    log.info(
      { gateway: signer.address, [target.kind === 'mqtt' ? 'broker' : 'engine']: target.url, devices: devices.length },
      'bridge running; register the gateway address for its meters (participants[].meters[].gateway)',
    );
    ctx.stdout.write(`gateway ${signer.address}\n`);
    installSignalHandlers(() => bridge.stop(), log);
    await new Promise<never>(() => {});
    return 0;
  },
};
