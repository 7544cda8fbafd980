import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from './free-port.js';
import { SunSpecImage } from './sunspec-image.js';

/** What the meter does with the next request. */
export type Behaviour =
  | { kind: 'normal' }
  /** Never answers (the request is swallowed). */
  | { kind: 'hang' }
  /** Answers with the registers as they were when the request arrived, `ms` later. */
  | { kind: 'delay'; ms: number }
  /** Answers with bytes that are not a Modbus reply of the request (wrong length, wrong function). */
  | { kind: 'garbage' }
  | { kind: 'exception'; code: number };

export interface MisbehavingMeter {
  port: number;
  image: SunSpecImage;
  /** Behaviour for every request from now on. */
  setMode(b: Behaviour): void;
  /** One-shot behaviours for the next requests, before the mode applies again. */
  queue(...b: Behaviour[]): void;
  /** Called when a request arrives (1-based count), before it is answered. */
  onRequest: ((n: number) => void) | null;
  readonly requests: number;
  /** Zeroes the counters to `importWh`/`exportWh` (a meter replacement, a firmware reset). */
  resetCounters(importWh: number, exportWh: number): void;
  /** Makes every measured value "not implemented", as inverters and meters do at night or in standby. */
  nightSentinels(): void;
  close(): Promise<void>;
}

export const MISBEHAVING_DEFAULTS = {
  W: 500,
  W_SF: 0,
  Hz: 5000,
  Hz_SF: -2,
  PhV: 2300,
  PhVphA: 2300,
  V_SF: -1,
  TotWhImp: 10_000,
  TotWhExp: 2_000,
  TotWh_SF: 0,
} as const;

/**
 * A SunSpec meter (common model + 203) that misbehaves on command. It speaks
 * Modbus TCP through its own small framing code rather than ServerTCP,
 * because the misbehaviours (late replies to old transactions, garbage bytes)
 * are exactly what a well-behaved server library will not produce.
 */
export async function startMisbehavingMeter(opts: { host?: string; port?: number } = {}): Promise<MisbehavingMeter> {
  const image = new SunSpecImage([
    { id: 1, values: { Mn: 'Misbehaving', Md: 'M203', SN: 'BAD-1', Vr: '0.1' } },
    { id: 203, values: { ...MISBEHAVING_DEFAULTS } },
  ]);
  let mode: Behaviour = { kind: 'normal' };
  const once: Behaviour[] = [];
  let requests = 0;
  const sockets = new Set<Socket>();

  const meter: MisbehavingMeter = {
    port: 0,
    image,
    setMode: (b) => void (mode = b),
    queue: (...b) => void once.push(...b),
    onRequest: null,
    get requests() {
      return requests;
    },
    resetCounters(imp, exp) {
      image.set(203, 'TotWhImp', imp);
      image.set(203, 'TotWhExp', exp);
    },
    nightSentinels() {
      for (const p of ['W', 'Hz', 'PhV', 'PhVphA', 'A', 'VA', 'VAR', 'PF']) image.set(203, p, null);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };

  const reply = (sock: Socket, tid: number, unit: number, pdu: Buffer): void => {
    const mbap = Buffer.alloc(7);
    mbap.writeUInt16BE(tid, 0);
    mbap.writeUInt16BE(0, 2);
    mbap.writeUInt16BE(pdu.length + 1, 4);
    mbap.writeUInt8(unit, 6);
    if (!sock.destroyed) sock.write(Buffer.concat([mbap, pdu]));
  };

  const handle = (sock: Socket, frame: Buffer): void => {
    const tid = frame.readUInt16BE(0);
    const unit = frame.readUInt8(6);
    const fc = frame.readUInt8(7);
    const addr = frame.readUInt16BE(8);
    const count = frame.readUInt16BE(10);
    requests++;
    meter.onRequest?.(requests);
    const b = once.shift() ?? mode;
    if (b.kind === 'hang') return;
    if (b.kind === 'garbage') {
      // A reply claiming fc 3 with a byte count that does not match the request.
      reply(sock, tid, unit, Buffer.from([fc, 3, 0xde, 0xad, 0xbe]));
      return;
    }
    const exc = (code: number): Buffer => Buffer.from([fc | 0x80, code]);
    let pdu: Buffer;
    if (b.kind === 'exception') pdu = exc(b.code);
    else if (fc !== 3 && fc !== 4) pdu = exc(1);
    else {
      const regs = count >= 1 && count <= 125 ? image.read(addr, count) : undefined;
      if (!regs) pdu = exc(2);
      else {
        pdu = Buffer.alloc(2 + regs.length * 2);
        pdu.writeUInt8(fc, 0);
        pdu.writeUInt8(regs.length * 2, 1);
        regs.forEach((r, i) => pdu.writeUInt16BE(r, 2 + i * 2));
      }
    }
    if (b.kind === 'delay') setTimeout(() => reply(sock, tid, unit, pdu), b.ms);
    else reply(sock, tid, unit, pdu);
  };

  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 7) {
        const len = buf.readUInt16BE(4);
        if (buf.length < 6 + len) break;
        const frame = buf.subarray(0, 6 + len);
        buf = buf.subarray(6 + len);
        if (frame.length >= 12) handle(sock, frame);
      }
    });
  });
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  meter.port = port;
  return meter;
}
