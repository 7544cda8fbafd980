import { EventBus, type ReadingEvent } from '../../core/events.js';
import { MicrogridError, invalid } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import { startBridge } from '../../meter-bridge/bridge.js';
import { bridgeOptionsFromConfig, devicesFromConfig } from '../../meter-bridge/config.js';
import { loadConfig } from '../load-config.js';
import type { Command } from './command.js';

/** `mgx read --device D`: one decoded reading of a configured device, as JSON. */
export const readCommand: Command = {
  name: 'read',
  summary: 'read a configured Modbus device once and print the decoded reading',
  usage: `      --device D       device id from bridge.devices`,
  options: { device: { type: 'string' } },
  async run(ctx) {
    const id = ctx.values.device;
    const cfgPath = ctx.values.config;
    const { config } = loadConfig({
      path: typeof cfgPath === 'string' ? cfgPath : undefined,
      env: ctx.env,
      cwd: ctx.cwd,
    });
    const devices = devicesFromConfig(config);
    if (typeof id !== 'string')
      throw invalid(
        'USAGE',
        '--device',
        id,
        devices.length ? `one of ${devices.map((d) => d.id).join(', ')}` : 'a device id from bridge.devices',
      );
    const device = devices.find((d) => d.id === id);
    if (!device)
      throw invalid(
        'USAGE',
        '--device',
        id,
        devices.length
          ? `one of ${devices.map((d) => d.id).join(', ')}`
          : 'a device id; the configuration has no bridge.devices',
      );
    // An MQTT meter pushes; there is nothing to read on demand.
    if (device.transport.type === 'mqtt')
      throw invalid(
        'USAGE',
        '--device',
        id,
        `a Modbus device (${id} is kind ${device.kind}: it pushes over MQTT; mgx doctor waits for one of its messages)`,
      );
    const bus = new EventBus();
    const readings: ReadingEvent[] = [];
    bus.on('reading', (r) => readings.push(r));
    const bridge = startBridge({
      devices: [device],
      clock: systemClock,
      bus,
      autoStart: false,
      ...bridgeOptionsFromConfig(config),
    });
    try {
      await bridge.pollOnce();
      const h = bridge.health()[0]!;
      if (readings.length === 0)
        throw new MicrogridError(
          h.lastErrorCode === 'MODBUS_TIMEOUT' ? 'MODBUS_TIMEOUT' : 'MODBUS_CONNECT',
          `device ${id} gave no reading: ${h.lastError ?? 'unknown error'}`,
        );
      ctx.stdout.write(`${JSON.stringify(readings.length === 1 ? readings[0] : readings, null, 2)}\n`);
      return 0;
    } finally {
      await bridge.stop();
    }
  },
};
