// The benchmark's client process: N WebSocket clients on loopback, each
// measuring delivery latency (receive time − the frame's server timestamp,
// same machine clock) and message sizes. Driven by run.ts over IPC.
import { WebSocket } from 'ws';

const [port, n] = [Number(process.argv[2]), Number(process.argv[3])];
const latencies: number[] = [];
const deltaSizes: number[] = [];
const snapshotSizes: number[] = [];
let measuring = false;
let unexpectedCloses = 0;
let gaps = 0;
const sockets: WebSocket[] = [];

function open(): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/stream`, { headers: { authorization: 'Bearer bench-operator-token-0000' }, perMessageDeflate: false });
    let lastSeq = -1;
    ws.on('message', (data: Buffer) => {
      const now = Date.now();
      const text = data.toString();
      // Only the header is needed; parse the whole frame anyway, as a real client would.
      const f = JSON.parse(text) as { type: string; seq: number; t: number };
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
  if (msg.cmd === 'measure') measuring = true;
  if (msg.cmd === 'report') {
    measuring = false;
    process.send!({ type: 'report', latencies, deltaSizes, snapshotSizes, unexpectedCloses, gaps, open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length });
  }
  if (msg.cmd === 'exit') {
    for (const s of sockets) s.terminate();
    process.exit(0);
  }
});

// Connect in batches so the listen backlog never overflows.
for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: Math.min(100, n - i) }, open));
process.send!({ type: 'connected', clients: sockets.length });
