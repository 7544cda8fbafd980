// npm run bench:dashboard [-- --clients 1000 --duration 60 --runs 3 --households 12 --client-procs 2 --slice-ms 8]
// 1,000 WebSocket clients on loopback receive 1 Hz state for 60 s. The server
// and the clients run in separate processes; the server measures its own CPU
// with process.cpuUsage over the measuring window. Prints p50/p99/max
// delivery latency, message sizes, dropped clients and server CPU per run, and
// the median over runs, and the stream's bytes per client per second (every delta a client received in the measuring
// window over clients × seconds). Target: p99 ≤ 50 ms, delta ≤ 1 KB on average, no client dropped, CPU ≤ 50 % of one
// core.
// The clients are spread over --client-procs processes: one Node process reading
// 1,000 sockets is itself a queue, and each process reports its own CPU and
// event-loop delay so its share of the latency is visible. The machine's load
// average is printed with each run (other work on the machine moves the figures).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number, got ${process.argv[i + 1]}`);
  return v;
}

const CLIENTS = arg('clients', 1000);
const DURATION_S = arg('duration', 60);
const RUNS = arg('runs', 3);
const HOUSEHOLDS = arg('households', 12);
const CLIENT_PROCS = Math.round(arg('client-procs', 2));
// Absent: the server's default (DEFAULT_SLICE_MS in routes/stream.ts).
const SLICE_MS = process.argv.includes('--slice-ms') ? arg('slice-ms', 8) : undefined;
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
// IPC turns NaN (no frame measured) into null.
const ms = (x: number | null): string => (x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(1));
const HERE = (f: string) => fileURLToPath(new URL(f, import.meta.url));

function child(file: string, args: string[]): ChildProcess {
  return fork(HERE(file), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function next<T>(c: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "${type}" from ${c.spawnargs.at(-3) ?? 'child'} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const on = (m: { type: string }) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      c.off('message', on);
      resolve(m as T);
    };
    c.on('message', on);
    c.once('exit', (code) => reject(new Error(`child exited (${code}) before "${type}"`)));
  });
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface RunResult {
  p50: number;
  p99: number;
  max: number;
  messages: number;
  expected: number;
  deltaAvg: number;
  deltaMax: number;
  /** Delta bytes received per client per second of the measuring window. */
  bytesPerClientS: number;
  snapshotAvg: number;
  dropped: number;
  cpu: number;
  gaps: number;
  sendP50: number;
  sendP99: number;
}

interface ClientReport {
  latencies: number[];
  deltaSizes: number[];
  snapshotSizes: number[];
  unexpectedCloses: number;
  gaps: number;
  open: number;
  cpuPercent: number;
  loopP99: number;
}

async function runOnce(i: number): Promise<RunResult> {
  const server = child('./server.ts', [String(HOUSEHOLDS), ...(SLICE_MS === undefined ? [] : [String(SLICE_MS)])]);
  const clients: ChildProcess[] = [];
  const loadBefore = load();
  try {
    const { port, meters } = await next<{ port: number; meters: number }>(server, 'listening', 60_000);
    for (let k = 0; k < CLIENT_PROCS; k++) {
      const n = Math.floor(CLIENTS / CLIENT_PROCS) + (k < CLIENTS % CLIENT_PROCS ? 1 : 0);
      clients.push(child('./clients.ts', [String(port), String(n)]));
    }
    await Promise.all(clients.map((c) => next(c, 'connected', 120_000)));
    server.send({ cmd: 'start' });
    // Let the first second pass unmeasured (connection warm-up), then measure DURATION_S.
    await new Promise((r) => setTimeout(r, 1500));
    for (const c of clients) c.send({ cmd: 'measure' });
    await new Promise((r) => setTimeout(r, DURATION_S * 1000));
    server.send({ cmd: 'stop' });
    const s = await next<{
      cpuPercent: number;
      rounds: number;
      stats: { clients: number; dropped: number };
      sendP50: number;
      sendP99: number;
      sendMax: number;
      fanP50: number | null;
      fanMax: number | null;
      fanCpuP50: number | null;
      fanCpuMax: number | null;
      fanSysP50: number | null;
      loopP99: number | null;
      loopMax: number | null;
      viewBytes: { full: number; household: number; public: number; frames: number };
    }>(server, 'stopped', 10_000);
    await new Promise((r) => setTimeout(r, 500));
    const reps = await Promise.all(
      clients.map((c) => {
        const p = next<ClientReport>(c, 'report', 30_000);
        c.send({ cmd: 'report' });
        return p;
      }),
    );
    const all = <K extends 'latencies' | 'deltaSizes' | 'snapshotSizes'>(k: K): number[] => reps.flatMap((r) => r[k]);
    const sum = (k: 'unexpectedCloses' | 'gaps' | 'open'): number => reps.reduce((a, r) => a + r[k], 0);
    const lat = all('latencies').sort((a, b) => a - b);
    const deltaSizes = all('deltaSizes');
    const snapshotSizes = all('snapshotSizes');
    const r: RunResult = {
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      max: lat.at(-1) ?? NaN,
      messages: lat.length,
      expected: CLIENTS * DURATION_S,
      deltaAvg: deltaSizes.reduce((a, b) => a + b, 0) / Math.max(1, deltaSizes.length),
      deltaMax: Math.max(...deltaSizes),
      bytesPerClientS: deltaSizes.reduce((a, b) => a + b, 0) / CLIENTS / DURATION_S,
      snapshotAvg: snapshotSizes.reduce((a, b) => a + b, 0) / Math.max(1, snapshotSizes.length),
      dropped: s.stats.dropped + sum('unexpectedCloses') + (CLIENTS - sum('open')),
      cpu: s.cpuPercent,
      gaps: sum('gaps'),
      sendP50: s.sendP50,
      sendP99: s.sendP99,
    };
    console.log(
      `run ${i + 1}/${RUNS}: ${CLIENTS} clients in ${CLIENT_PROCS} processes × ${meters} meters, ${DURATION_S} s: latency p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms; ` +
        `${r.messages}/${r.expected} deltas (~${(r.messages / CLIENTS / DURATION_S).toFixed(2)} Hz per client), seq gaps ${r.gaps}; delta ${Math.round(r.deltaAvg)} B avg / ${r.deltaMax} B max, ${Math.round(r.bytesPerClientS)} B per client per second, snapshot ${Math.round(r.snapshotAvg)} B; ` +
        `dropped ${r.dropped}; server CPU ${r.cpu.toFixed(1)} % of one core; server-side (event → last write) p50 ${s.sendP50} ms, p99 ${s.sendP99} ms, max ${s.sendMax} ms; ` +
        `fan-out (first → last write) p50 ${ms(s.fanP50)} ms, max ${ms(s.fanMax)} ms, of which CPU p50 ${ms(s.fanCpuP50)} ms (kernel ${ms(s.fanSysP50)} ms), max ${ms(s.fanCpuMax)} ms; server event-loop delay p99 ${ms(s.loopP99)} ms, max ${ms(s.loopMax)} ms; ` +
        `client processes CPU ${reps.map((x) => ms(x.cpuPercent)).join('/')} %, event-loop delay p99 ${reps.map((x) => ms(x.loopP99)).join('/')} ms; load average ${loadBefore} → ${load()}`,
    );
    const per = (b: number) => Math.round(b / Math.max(1, s.viewBytes.frames));
    console.log(
      `  delta per view, same frames (${s.viewBytes.frames}): operator/auditor ${per(s.viewBytes.full)} B, one household ${per(s.viewBytes.household)} B, public ${per(s.viewBytes.public)} B`,
    );
    return r;
  } finally {
    for (const c of [...clients, server]) {
      if (c.exitCode !== null) continue;
      c.send({ cmd: 'exit' });
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await new Promise((r) => c.once('exit', r));
      clearTimeout(t);
    }
  }
}

console.log(
  `bench:dashboard — ${CLIENTS} WebSocket clients in ${CLIENT_PROCS} processes, 1 Hz state, ${DURATION_S} s × ${RUNS} runs, ${HOUSEHOLDS} households, fan-out slice ${SLICE_MS ?? 'default'} ms; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); node ${process.version}`,
);
const results: RunResult[] = [];
for (let i = 0; i < RUNS; i++) results.push(await runOnce(i));
const m = (k: keyof RunResult) => median(results.map((r) => r[k]));
console.log(
  `median of ${RUNS}: latency p50 ${m('p50')} ms, p99 ${m('p99')} ms, max ${m('max')} ms; delta ${Math.round(m('deltaAvg'))} B avg, ${Math.round(m('bytesPerClientS'))} B per client per second, snapshot ${Math.round(m('snapshotAvg'))} B; dropped ${m('dropped')}; server CPU ${m('cpu').toFixed(1)} % of one core; server-side fan-out p50 ${m('sendP50')} ms, p99 ${m('sendP99')} ms`,
);
console.log(
  `latency = client receive time − the frame's server timestamp (same clock), measured in ${CLIENT_PROCS} client process(es) sharing the machine with the server; the server-side figure is the server's share. Load average now ${load()}.`,
);
const ok = m('p99') <= 50 && m('deltaAvg') <= 1024 && results.every((r) => r.dropped === 0) && m('cpu') <= 50;
console.log(`target (p99 ≤ 50 ms, delta ≤ 1 KB avg, no client dropped, CPU ≤ 50 %): ${ok ? 'met' : 'NOT met'}`);
