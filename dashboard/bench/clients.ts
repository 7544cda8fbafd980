// The benchmark's client process: N WebSocket clients on loopback, each
// measuring delivery latency (receive time − the frame's server timestamp,
// same machine clock) and message sizes. Driven by run.ts over IPC.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocket } from 'ws';

const [port, n] = [Number(process.argv[2]), Number(process.argv[3])];
const latencies: number[] = [];
const deltaSizes: number[] = [];
const snapshotSizes: number[] = [];
let measuring = false;
// This process's own load: if it is busy, the latency it measures is partly its own queue.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
let cpu0 = process.cpuUsage();
let wall0 = performance.now();
let unexpectedCloses = 0;
let gaps = 0;
const sockets: WebSocket[] = [];
let count = 0;
const HEADER = /^\{"type":"(snapshot|delta)","seq":(\d+),"t":(\d+)/;

function open(): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/stream`, {
      headers: { authorization: 'Bearer bench-operator-token-0000' },
      perMessageDeflate: false,
    });
    let lastSeq = -1;
    ws.on('message', (data: Buffer) => {
      const now = Date.now();
      // One process hosts all the clients, so parsing every 3 KB frame in full would measure
      // this process's queue, not the server's delivery. The header is read from the first
      // bytes; one frame in 50 is parsed in full to check the frames are whole, valid JSON.
      const m = HEADER.exec(data.toString('latin1', 0, 96));
      if (!m) throw new Error(`unexpected frame start: ${data.toString('latin1', 0, 96)}`);
      const f = { type: m[1]!, seq: Number(m[2]), t: Number(m[3]) };
      if (++count % 50 === 0) {
        const full = JSON.parse(data.toString()) as { seq: number; t: number };
        if (full.seq !== f.seq || full.t !== f.t) throw new Error('frame header and body disagree');
      }
      if (f.type === 'snapshot') {
        snapshotSizes.push(data.length);
        lastSeq = f.seq;
        resolve();
        return;
      }
      if (lastSeq >= 0 && f.seq !== lastSeq + 1) gaps++;
      lastSeq = f.seq;
      if (!measuring) return;
      latencies.push(now - f.t);
      deltaSizes.push(data.length);
    });
    ws.on('close', () => {
      if (measuring) unexpectedCloses++;
    });
    ws.on('error', reject);
    sockets.push(ws);
  });
}

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'measure') {
    measuring = true;
    cpu0 = process.cpuUsage();
    wall0 = performance.now();
    loopDelay.enable();
  }
  if (msg.cmd === 'report') {
    measuring = false;
    loopDelay.disable();
    const cpu = process.cpuUsage(cpu0);
    const cpuPercent = ((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100;
    process.send!({
      type: 'report',
      latencies,
      deltaSizes,
      snapshotSizes,
      unexpectedCloses,
      gaps,
      cpuPercent,
      loopP99: loopDelay.percentile(99) / 1e6,
      open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
    });
  }
  if (msg.cmd === 'exit') {
    for (const s of sockets) s.terminate();
    process.exit(0);
  }
});

// Connect in batches so the listen backlog never overflows.
for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: Math.min(100, n - i) }, open));
process.send!({ type: 'connected', clients: sockets.length });
