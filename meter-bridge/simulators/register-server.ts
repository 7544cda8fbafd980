import { ServerTCP } from 'modbus-serial';
import { freePort } from './free-port.js';

/**
 * Answers one read: registers, or throws `{ modbusErrorCode }` for an exception; a promise that never settles hangs.
 */
export type ReadHandler = (unitId: number, fc: 3 | 4, address: number, count: number) => number[] | Promise<number[]>;

export interface RegisterServer {
  port: number;
  host: string;
  close(): Promise<void>;
}

export class ModbusException extends Error {
  readonly modbusErrorCode: number;
  constructor(code: number) {
    super(`Modbus exception ${code}`);
    this.modbusErrorCode = code;
  }
}

/**
 * A Modbus TCP server on modbus-serial's ServerTCP, answering every unit id
 * (255) through one handler. ServerTCP treats port 0 as "502", so a free port
 * is picked first and the bind retried if someone took it meanwhile.
 */
export async function startRegisterServer(
  handler: ReadHandler,
  opts: { host?: string; port?: number } = {},
): Promise<RegisterServer> {
  const host = opts.host ?? '127.0.0.1';
  const multi =
    (fc: 3 | 4) =>
    (addr: number, length: number, unitID: number, cb: (err: Error | null, v: number[]) => void): void => {
      let settled = false;
      const done = (err: Error | null, v: number[]): void => {
        if (settled) return;
        settled = true;
        cb(err, v);
      };
      try {
        const r = handler(unitID, fc, addr, length);
        if (Array.isArray(r)) done(null, r);
        else
          r.then(
            (v) => done(null, v),
            (e: Error) => done(e, []),
          );
      } catch (e) {
        done(e as Error, []);
      }
    };
  const single =
    (fc: 3 | 4) =>
    (addr: number, unitID: number, cb: (err: Error | null, v: number) => void): void =>
      multi(fc)(addr, 1, unitID, (err, v) => cb(err, v[0] ?? 0));
  const vector = {
    getMultipleHoldingRegisters: multi(3),
    getMultipleInputRegisters: multi(4),
    getHoldingRegister: single(3),
    getInputRegister: single(4),
  };
  for (let attempt = 0; ; attempt++) {
    const port = opts.port ?? (await freePort(host));
    const server = new ServerTCP(vector as never, { host, port, unitID: 255 });
    const ok = await new Promise<boolean>((resolve, reject) => {
      server.on('initialized', () => resolve(true));
      server.on('serverError', (e) => {
        const err = e as NodeJS.ErrnoException | null;
        return err?.code === 'EADDRINUSE' && opts.port === undefined && attempt < 5 ? resolve(false) : reject(err);
      });
    });
    // A client that disconnects mid-reply makes ServerTCP emit socketError; a simulator shrugs that off.
    server.on('socketError', () => {});
    server.on('error', () => {});
    if (!ok) continue;
    return {
      port,
      host,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of server.socks.keys()) s.destroy();
          server.close(() => resolve());
        }),
    };
  }
}
