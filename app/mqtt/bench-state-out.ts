// npx tsx app/mqtt/bench-state-out.ts --url mqtt://127.0.0.1:1883 [--households 1000 --seconds 20]
//
// MQTT state out at scale: N households, each grid meter read once a second
// (one poll round per second, as the bridge does), all listed. Measures, over
// the run, the readings and hub frames per second, the messages per second the
// broker delivered to a subscriber on `<prefix>/#`, and the CPU of this
// process, first with the live hub alone (the floor: the dashboard pays it
// anyway), then with state out publishing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { ManualClock } from '../../core/clock.js';
import { EventBus } from '../../core/events.js';
import { validateConfig } from '../../core/config/validate.js';
import { openLedger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { LiveHub } from '../../dashboard/live/hub.js';
import { createLogger } from '../logger.js';
import { connectEngineMqtt } from './connection.js';
import { startStateOut } from './state-out.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    households: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
  },
});
if (!values.url) throw new Error('--url mqtt://HOST:PORT of a broker is required');
const N = Number(values.households);
const SECONDS = Number(values.seconds);
const log = createLogger('warn');
const dir = mkdtempSync(join(tmpdir(), 'mgx-bench-mqtt-'));
const participants = Array.from({ length: N }, (_, i) => ({
  id: `h${i}`,
  name: `Household ${i}`,
  zone: 'z',
  meters: [{ id: `h${i}-grid`, role: 'grid' }],
}));
const config = validateConfig({
  microgrid: { id: 'bench' },
  participants,
  mqtt: { url: values.url, households: 'all' },
});
const ledger = openLedger(join(dir, 'ledger.sqlite'));
const clock = new ManualClock(Date.parse('2026-06-21T10:00:00Z'));
for (const p of config.participants) upsertParticipant(ledger, p, clock.now());
const bus = new EventBus();
const hub = new LiveHub({ ledger, config, clock, bus, replayFrames: 100 });
let frames = 0;
hub.subscribe(() => frames++);

const sub = await mqtt.connectAsync(values.url, { reconnectPeriod: 0 });
let messages = 0;
sub.on('message', () => messages++);
await sub.subscribeAsync('mgx/bench/#', { qos: 0 });

let tick = 0;
/** One poll round: every meter's reading in the same event-loop turn. */
const round = () => {
  tick++;
  // eslint-disable-next-line @typescript-eslint/no-floating-promises -- a failing timer ends the bench as an unhandled rejection, as it should
  void clock.advanceTo(clock.now() + 1000);
  for (let i = 0; i < N; i++) {
    bus.emit({
      type: 'reading',
      meterId: `h${i}-grid`,
      ts: new Date(Date.parse('2026-06-21T10:00:00Z') + tick * 1000).toISOString(),
      powerW: 300 + ((i * 7 + tick * 13) % 900),
      importWh: 10_000 + tick * 5 + i,
      exportWh: 0,
      voltageV: 230,
      frequencyHz: 50,
      quality: 'good',
    });
  }
};

async function phase(name: string): Promise<void> {
  frames = 0;
  messages = 0;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  for (let s = 0; s < SECONDS; s++) {
    round();
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + (s + 1) * 1000 - Date.now())));
  }
  const wall = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `${name}: ${N} households, ${((N * SECONDS) / wall).toFixed(0)} readings/s, ${(frames / wall).toFixed(1)} frames/s, ${(messages / wall).toFixed(0)} messages/s delivered, CPU ${(((cpu.user + cpu.system) / 1e6 / wall) * 100).toFixed(1)} % of a core (this process: hub, bus, the subscriber${name.includes('state') ? ', state out' : ''})`,
  );
}

await phase('hub only (floor)');
const engine = await connectEngineMqtt(config, {}, log);
const out = await startStateOut({ mqtt: engine, hub, ledger, config, clock, log, version: 'bench' });
await new Promise((r) => setTimeout(r, 2000)); // the first round (every household) out of the way
await phase('hub + state out');
out.close();
await engine.close();
await sub.endAsync();
hub.close();
ledger.close();
rmSync(dir, { recursive: true, force: true });
