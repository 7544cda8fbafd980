// The benchmark's server process: the real dashboard app on loopback, fed 1 Hz
// readings for every meter of the demo microgrid. Driven by run.ts over IPC.
import { mkdtempSync, rmSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoConfig } from '../../core/config/demo.js';
import { ScaledClock } from '../../core/clock.js';
import { EventBus } from '../../core/events.js';
import { openLedger } from '../../ledger/ledger.js';
import { listMeters, upsertParticipant } from '../../ledger/participants.js';
import { buildDashboard } from '../app.js';

const households = Number(process.argv[2] ?? 12);
const sliceMs = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const dir = mkdtempSync(join(tmpdir(), 'mgx-bench-'));
const config = demoConfig(households);
config.auth.tokens = [{ token: { env: 'BENCH_TOKEN' }, role: 'operator' }];
// No heartbeat drops during the run unless a client really is dead; generous buffer like production defaults.
const ledger = openLedger(join(dir, 'ledger.sqlite'));
const clock = new ScaledClock(1);
for (const p of config.participants) upsertParticipant(ledger, p, clock.now());
const bus = new EventBus();
const app = buildDashboard({
  ledger,
  config,
  clock,
  bus,
  version: 'bench',
  env: { BENCH_TOKEN: 'bench-operator-token-0000' },
  buildBundle: false,
  ...(sliceMs === undefined ? {} : { streamSliceMs: sliceMs }),
});
await app.listen({ host: '127.0.0.1', port: 0 });
const meters = listMeters(ledger);

let timer: NodeJS.Timeout | undefined;
let cpu0 = process.cpuUsage();
let wall0 = performance.now();
let rounds = 0;
let sendMark = 0;
let fanMark = 0;
let cpuMark = 0;
let sysMark = 0;
// The delta bytes of each kind of view over the measuring window (the clients are all operators; a household's and
// the public view are cut from the same frames, as the stream route would for their clients).
const viewBytes = { full: 0, household: 0, public: 0, frames: 0 };
let unsubscribeViews: (() => void) | undefined;
const household = { role: 'household' as const, participant: config.participants[0]!.id, key: 'bench-household' };
// How long the event loop was held up (what a slice of the fan-out, or anything else, costs the next frame).
const loopDelay = monitorEventLoopDelay({ resolution: 5 });

function round(): void {
  rounds++;
  const ts = new Date().toISOString();
  // One poll round of the bridge: every meter in the same tick, so one frame per second per client.
  for (const [i, m] of meters.entries()) {
    const power = m.role === 'pv' ? -(1500 + ((rounds * 37 + i * 101) % 900)) : 400 - ((rounds * 53 + i * 71) % 1500);
    bus.emit({
      type: 'reading',
      meterId: m.id,
      ts,
      powerW: power,
      importWh: 100_000 + rounds,
      exportWh: 50_000 + rounds,
      voltageV: 230.4,
      frequencyHz: 50.01,
      quality: 'good',
    });
  }
}

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'start') {
    cpu0 = process.cpuUsage();
    wall0 = performance.now();
    rounds = 0;
    sendMark = app.mgx.streamStats?.().frameSendMs.length ?? 0;
    fanMark = app.mgx.streamStats?.().fanOutMs.length ?? 0;
    cpuMark = app.mgx.streamStats?.().fanOutCpuMs.length ?? 0;
    sysMark = app.mgx.streamStats?.().fanOutSysMs.length ?? 0;
    loopDelay.reset();
    loopDelay.enable();
    unsubscribeViews = app.mgx.hub.subscribe((f) => {
      viewBytes.frames++;
      viewBytes.full += app.mgx.cutter.delta(f, { role: 'operator', participant: null, key: 'bench-operator' }).length;
      viewBytes.household += app.mgx.cutter.delta(f, household).length;
      viewBytes.public += app.mgx.cutter.delta(f, null).length;
    });
    timer = setInterval(round, 1000);
    round();
  } else if (msg.cmd === 'stop') {
    if (timer) clearInterval(timer);
    unsubscribeViews?.();
    loopDelay.disable();
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - wall0;
    const stats = app.mgx.streamStats?.();
    const sendMs = (stats?.frameSendMs.slice(sendMark) ?? []).sort((a, b) => a - b);
    const fanMs = (stats?.fanOutMs.slice(fanMark) ?? []).sort((a, b) => a - b);
    const fanCpuMs = (stats?.fanOutCpuMs.slice(cpuMark) ?? []).sort((a, b) => a - b);
    const fanSysMs = (stats?.fanOutSysMs.slice(sysMark) ?? []).sort((a, b) => a - b);
    const pctOf = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN;
    const pct = (p: number) => pctOf(sendMs, p);
    process.send!({
      type: 'stopped',
      cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      rounds,
      stats: { clients: stats?.clients, dropped: stats?.dropped },
      sendP50: pct(50),
      sendP99: pct(99),
      sendMax: sendMs.at(-1) ?? NaN,
      fanP50: pctOf(fanMs, 50),
      fanMax: fanMs.at(-1) ?? NaN,
      fanCpuP50: pctOf(fanCpuMs, 50),
      fanCpuMax: fanCpuMs.at(-1) ?? NaN,
      fanSysP50: pctOf(fanSysMs, 50),
      loopP99: loopDelay.percentile(99) / 1e6,
      loopMax: loopDelay.max / 1e6,
      meters: meters.length,
      viewBytes,
    });
  } else if (msg.cmd === 'exit') {
    // eslint-disable-next-line @typescript-eslint/no-floating-promises -- a failed close ends this bench child as an unhandled rejection, which the parent reports
    void app.close().then(() => {
      ledger.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  }
});

process.send!({ type: 'listening', port: (app.server.address() as { port: number }).port, meters: meters.length });
