import { loadConfig } from '../load-config.js';
import { createLogger } from '../logger.js';
import { startMicrogrid } from '../start.js';
import { installSignalHandlers } from '../shutdown.js';
import { dataDirOf, type Command } from './command.js';
import { invalid } from '../../core/errors.js';
import { withMqttUrl } from '../mqtt/with-url.js';

function intOption(v: unknown, field: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+(\.\d+)?$/.test(v) || n < min || n > max)
    throw invalid('USAGE', field, v, `a number from ${min} to ${max}`);
  return n;
}

export const startCommand: Command = {
  name: 'start',
  summary: 'run the microgrid: bridge, market, settlement and dashboard',
  usage: `      --port N         HTTP port (default: server.port, 8080; 0 picks a free port)
      --host ADDR      HTTP address (default: server.host, 127.0.0.1)
      --speed X        run market time X times faster than the wall clock (demo default: 60)
      --mqtt URL       publish state and Home Assistant discovery to this broker (mqtt.url; the demo publishes all its households)`,
  options: { port: { type: 'string' }, host: { type: 'string' }, speed: { type: 'string' }, mqtt: { type: 'string' } },
  async run(ctx) {
    const port = intOption(ctx.values.port, '--port', 0, 65535);
    const speed = intOption(ctx.values.speed, '--speed', 0.001, 3600);
    const cfgPath = ctx.values.config;
    const loaded = loadConfig({ path: typeof cfgPath === 'string' ? cfgPath : undefined, env: ctx.env, cwd: ctx.cwd });
    const { source } = loaded;
    const config =
      typeof ctx.values.mqtt === 'string'
        ? withMqttUrl(loaded.config, ctx.values.mqtt, source === 'embedded demo')
        : loaded.config;
    const log = createLogger(ctx.env.MGX_LOG_LEVEL ?? config.logLevel);
    // Signals are handled from the first moment: one that arrives while starting waits for the start, then stops.
    let starting: Promise<{ stop(): Promise<void> }> | undefined;
    installSignalHandlers(async () => (await starting)?.stop(), log);
    await (starting = startMicrogrid({
      config,
      configSource: source,
      dataDir: dataDirOf(ctx),
      log,
      ...(port === undefined ? {} : { port }),
      ...(typeof ctx.values.host === 'string' ? { host: ctx.values.host } : {}),
      ...(speed === undefined ? {} : { speed }),
    }));
    // Keep running until a signal; installSignalHandlers exits the process.
    await new Promise<never>(() => {});
    return 0;
  },
};
