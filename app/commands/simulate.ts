import { ScaledClock } from '../../core/clock.js';
import { invalid } from '../../core/errors.js';
import { startSimulators } from '../../meter-bridge/simulators/household.js';
import { startMisbehavingMeter } from '../../meter-bridge/simulators/misbehaving-meter.js';
import { createLogger } from '../logger.js';
import { installSignalHandlers } from '../shutdown.js';
import type { Command } from './command.js';
import { intArg } from './scan.js';

/**
 * `mgx simulate`: simulated SunSpec households (inverter 103 + meter 203 on
 * unit 1) and optionally a misbehaving meter, on loopback, until Ctrl-C — so
 * anyone can try `mgx scan` and the bridge without hardware.
 */
export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'run simulated Modbus households (and a misbehaving meter) on loopback',
  usage: `      --households N   how many households (default 3)
      --host ADDR      address to listen on (default 127.0.0.1)
      --speed X        simulated time runs X times faster (default 1)
      --misbehaving    also start a meter that misbehaves (mode cycles every 10 s)`,
  options: {
    households: { type: 'string' },
    host: { type: 'string' },
    speed: { type: 'string' },
    misbehaving: { type: 'boolean' },
  },
  async run(ctx) {
    const n = intArg(ctx.values.households, '--households', 1, 2000, 3);
    const speed = intArg(ctx.values.speed, '--speed', 1, 3600, 1);
    const host = typeof ctx.values.host === 'string' ? ctx.values.host : '127.0.0.1';
    if (host !== '127.0.0.1' && host !== 'localhost' && !/^[\d.:a-fA-F]+$/.test(host))
      throw invalid('USAGE', '--host', host, 'an IP address');
    const log = createLogger(ctx.env.MGX_LOG_LEVEL ?? 'info');
    const clock = new ScaledClock(speed);
    const sims = await startSimulators({ clock, households: n, host });
    const bad = ctx.values.misbehaving === true ? await startMisbehavingMeter({ host }) : null;
    let timer: NodeJS.Timeout | undefined;
    if (bad) {
      const modes = [
        { kind: 'normal' },
        { kind: 'hang' },
        { kind: 'normal' },
        { kind: 'garbage' },
        { kind: 'exception', code: 4 },
      ] as const;
      let i = 0;
      timer = setInterval(() => {
        i = (i + 1) % modes.length;
        bad.setMode(modes[i]!);
        log.info({ mode: modes[i] }, 'misbehaving meter changes mode');
      }, 10_000);
    }
    const lines = sims.households.map(
      (h) => `household ${h.index + 1}: ${h.host}:${h.port} unit ${h.unitId} (SunSpec 1, 103, 203)`,
    );
    if (bad) lines.push(`misbehaving meter: ${host}:${bad.port} unit 1 (SunSpec 1, 203)`);
    ctx.stdout.write(
      `${lines.join('\n')}\nsimulators ready; try: mgx scan --host ${host} --port ${sims.households[0]!.port}\n`,
    );
    installSignalHandlers(async () => {
      if (timer) clearInterval(timer);
      await sims.close();
      await bad?.close();
    }, log);
    await new Promise<never>(() => {});
    return 0;
  },
};
