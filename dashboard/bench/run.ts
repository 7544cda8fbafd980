// npm run bench:dashboard [-- --clients 1000 --duration 60 --runs 3 --households 12]
// 1,000 WebSocket clients on loopback receive 1 Hz state for 60 s. The server
// and the clients run in separate processes; the server measures its own CPU
// with process.cpuUsage over the measuring window. Prints p50/p99/max
// delivery latency, message sizes, dropped clients and server CPU per run, and
// the median over runs. Target: p99 ≤ 50 ms, no client dropped, CPU ≤ 50 % of one core.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';

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
const HERE = (f: string) => fileURLToPath(new URL(f, import.meta.url));

function child(file: string, args: string[]): ChildProcess {
  return fork(HERE(file), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function next<T>(c: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${type}" from ${c.spawnargs.at(-3) ?? 'child'} within ${timeoutMs} ms`)), timeoutMs);
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

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
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
  snapshotAvg: number;
  dropped: number;
  cpu: number;
  gaps: number;
  sendP50: number;
  sendP99: number;
}

async function runOnce(i: number): Promise<RunResult> {
  const server = child('./server.ts', [String(HOUSEHOLDS)]);
  let clients: ChildProcess | undefined;
  try {
    const { port, meters } = await next<{ port: number; meters: number }>(server, 'listening', 60_000);
    clients = child('./clients.ts', [String(port), String(CLIENTS)]);
    await next(clients, 'connected', 120_000);
    server.send({ cmd: 'start' });
    // Let the first second pass unmeasured (connection warm-up), then measure DURATION_S.
    await new Promise((r) => setTimeout(r, 1500));
    clients.send({ cmd: 'measure' });
    await new Promise((r) => setTimeout(r, DURATION_S * 1000));
    server.send({ cmd: 'stop' });
    const s = await next<{ cpuPercent: number; rounds: number; stats: { clients: number; dropped: number }; sendP50: number; sendP99: number; sendMax: number }>(server, 'stopped', 10_000);
    await new Promise((r) => setTimeout(r, 500));
    clients.send({ cmd: 'report' });
    const rep = await next<{ latencies: number[]; deltaSizes: number[]; snapshotSizes: number[]; unexpectedCloses: number; gaps: number; open: number }>(clients, 'report', 30_000);
    const lat = rep.latencies.sort((a, b) => a - b);
    const r: RunResult = {
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      max: lat.at(-1) ?? NaN,
      messages: lat.length,
      expected: CLIENTS * DURATION_S,
      deltaAvg: rep.deltaSizes.reduce((a, b) => a + b, 0) / Math.max(1, rep.deltaSizes.length),
      deltaMax: Math.max(...rep.deltaSizes),
      snapshotAvg: rep.snapshotSizes.reduce((a, b) => a + b, 0) / Math.max(1, rep.snapshotSizes.length),
      dropped: s.stats.dropped + rep.unexpectedCloses + (CLIENTS - rep.open),
      cpu: s.cpuPercent,
      gaps: rep.gaps,
      sendP50: s.sendP50,
      sendP99: s.sendP99,
    };
    console.log(
      `run ${i + 1}/${RUNS}: ${CLIENTS} clients × ${meters} meters, ${DURATION_S} s: latency p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms; ` +
        `${r.messages}/${r.expected} deltas (~${(r.messages / CLIENTS / DURATION_S).toFixed(2)} Hz per client), seq gaps ${r.gaps}; delta ${Math.round(r.deltaAvg)} B avg / ${r.deltaMax} B max, snapshot ${Math.round(r.snapshotAvg)} B; ` +
        `dropped ${r.dropped}; server CPU ${r.cpu.toFixed(1)} % of one core; server-side fan-out (event → last send) p50 ${s.sendP50} ms, p99 ${s.sendP99} ms, max ${s.sendMax} ms`,
    );
    return r;
  } finally {
    for (const c of [clients, server]) {
      if (!c || c.exitCode !== null) continue;
      c.send({ cmd: 'exit' });
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await new Promise((r) => c.once('exit', r));
      clearTimeout(t);
    }
  }
}

console.log(`bench:dashboard — ${CLIENTS} WebSocket clients, 1 Hz state, ${DURATION_S} s × ${RUNS} runs, ${HOUSEHOLDS} households; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); node ${process.version}`);
const results: RunResult[] = [];
for (let i = 0; i < RUNS; i++) results.push(await runOnce(i));
const m = (k: keyof RunResult) => median(results.map((r) => r[k]));
console.log(
  `median of ${RUNS}: latency p50 ${m('p50')} ms, p99 ${m('p99')} ms, max ${m('max')} ms; delta ${Math.round(m('deltaAvg'))} B avg, snapshot ${Math.round(m('snapshotAvg'))} B; dropped ${m('dropped')}; server CPU ${m('cpu').toFixed(1)} % of one core; server-side fan-out p50 ${m('sendP50')} ms, p99 ${m('sendP99')} ms`,
);
console.log('latency = client receive time − the frame\'s server timestamp (same clock), measured in one client process hosting every socket; the fan-out figure is the server\'s share.');
const ok = m('p99') <= 50 && results.every((r) => r.dropped === 0) && m('cpu') <= 50;
console.log(`target (p99 ≤ 50 ms, no client dropped, CPU ≤ 50 %): ${ok ? 'met' : 'NOT met'}`);
