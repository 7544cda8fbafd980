import modbusSerial from 'modbus-serial';
import type { ModbusRTU } from 'modbus-serial/ModbusRTU.js';
import { MicrogridError } from '../../core/errors.js';
import { busKey, type BusOptions, type BusSpec, type BusStats, type ModbusBus, type RegisterRead } from './types.js';

interface Job {
  req: RegisterRead;
  resolve: (regs: number[]) => void;
  reject: (err: unknown) => void;
}

// modbus-serial is CommonJS: its default export is the client class itself.
const ModbusClient = modbusSerial as unknown as new () => ModbusRTU;

/**
 * How long after its timeout a transaction is forgotten (a stall of the process longer than this still reads as a
 * timeout).
 */
const BACKSTOP_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One physical bus on top of modbus-serial: a FIFO of requests with exactly
 * one in flight. On RS485 that is what the wire demands (a second master frame
 * would collide); on TCP it keeps a device's small TCP stack from drowning and
 * lets several unit ids (a gateway and the meters behind it) share one
 * connection.
 *
 * Late answers: modbus-serial matches TCP replies by transaction id and drops a
 * reply whose transaction already timed out. RTU has no transaction id, so
 * after a timeout the bus stays silent for `drainMs` before the next request:
 * a late reply lands while the timed-out transaction is still the current one
 * and is dropped with it, never matched to the next request. Every reply's
 * unit, function and length are checked by modbus-serial, and the register
 * count again here.
 */
export class ModbusClientBus implements ModbusBus {
  readonly key: string;
  readonly spec: BusSpec;
  readonly options: BusOptions;
  readonly stats: BusStats = { requests: 0, errors: 0, timeouts: 0, retries: 0, reconnects: 0 };
  #queue: Job[] = [];
  #running = false;
  #client: ModbusRTU | null = null;
  #connecting: Promise<ModbusRTU> | null = null;
  #nextConnectAt = 0;
  #backoff: number;
  #lastError: MicrogridError | null = null;
  #closed = false;
  #drainUntil = 0;

  constructor(spec: BusSpec, options: BusOptions) {
    this.spec = spec;
    this.key = busKey(spec);
    this.options = options;
    this.#backoff = options.reconnectMinMs;
  }

  get pending(): number {
    return this.#queue.length + (this.#running ? 1 : 0);
  }

  read(req: RegisterRead): Promise<number[]> {
    if (this.#closed) return Promise.reject(new MicrogridError('MODBUS_CONNECT', `bus ${this.key} is closed`));
    if (!(req.count >= 1 && req.count <= 125))
      throw new RangeError(`a Modbus read is 1..125 registers, asked ${req.count}`);
    return new Promise((resolve, reject) => {
      this.#queue.push({ req, resolve, reject });
      // eslint-disable-next-line @typescript-eslint/no-floating-promises -- #pump settles every job itself and does not reject
      if (!this.#running) void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    this.#running = true;
    try {
      for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
        const wait = this.#drainUntil - Date.now();
        if (wait > 0) await sleep(wait);
        try {
          job.resolve(await this.#execute(job.req));
        } catch (err) {
          this.stats.errors++;
          job.reject(err);
        }
        if (this.options.gapMs > 0 && this.#queue.length > 0) await sleep(this.options.gapMs);
      }
    } finally {
      this.#running = false;
    }
  }

  async #execute(req: RegisterRead): Promise<number[]> {
    let lastErr: unknown;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        // Jitter keeps many bridges (or many devices behind one gateway) from retrying in lockstep.
        await sleep(Math.round(this.options.gapMs + 20 * attempt * (0.5 + Math.random())));
      }
      // Connecting has its own backoff: a connect failure is not retried per request.
      const client = await this.#connect();
      this.stats.requests++;
      try {
        client.setID(req.unitId);
        // modbus-serial's own timer fires in the timers phase, before the
        // sockets are read: here it is only a backstop that forgets the
        // transaction (a late reply until then is matched to it and dropped).
        // The timeout that counts is #answer's.
        client.setTimeout(this.options.timeoutMs + BACKSTOP_MS);
        const res = await this.#answer(
          req.fc === 3
            ? client.readHoldingRegisters(req.address, req.count)
            : client.readInputRegisters(req.address, req.count),
        );
        const data = res.data;
        if (!Array.isArray(data) || data.length !== req.count) {
          throw new MicrogridError('MODBUS_BAD_REPLY', 'reply has the wrong number of registers', {
            field: this.#where(req),
            value: Array.isArray(data) ? data.length : data,
            expected: `${req.count} registers`,
          });
        }
        return data;
      } catch (err) {
        const e = this.#classify(err, req);
        lastErr = e;
        if (e.code === 'MODBUS_EXCEPTION') throw e;
        if (e.code === 'MODBUS_TIMEOUT') {
          this.stats.timeouts++;
          if (this.spec.type === 'rtu') this.#drainUntil = Date.now() + this.options.drainMs;
        }
        if (e.code === 'MODBUS_CONNECT') {
          this.#dropClient();
          throw e;
        }
        if (this.spec.type === 'rtu' && this.#drainUntil > Date.now()) await sleep(this.#drainUntil - Date.now());
      }
    }
    throw lastErr;
  }

  /**
   * The reply, or a timeout when none came within `timeoutMs`. The verdict is
   * given in a setImmediate after the timer fired, i.e. after the event loop's
   * I/O phase: when this process itself was stalled past the deadline (a long
   * GC, CPU taken by other processes, 1,000 devices' work in one tick), timers
   * run before the sockets are read, and a reply already waiting in the socket
   * would otherwise be declared a timeout — then retried, making the poll
   * overrun its cycle. A device that really did not answer still times out.
   */
  #answer<T>(request: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (settled) return;
            settled = true;
            reject(
              Object.assign(new Error(`Timed out after ${this.options.timeoutMs} ms`), {
                name: 'TransactionTimedOutError',
              }),
            );
          }),
        this.options.timeoutMs,
      );
      request.then(
        (v) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(v);
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  #where(req: RegisterRead): string {
    return `${this.key} unit ${req.unitId} fc ${req.fc} @${req.address}+${req.count}`;
  }

  #classify(err: unknown, req: RegisterRead): MicrogridError {
    if (err instanceof MicrogridError) return err;
    const e = err as { name?: string; errno?: string; message?: string; modbusCode?: number; code?: string };
    const where = this.#where(req);
    if (typeof e.modbusCode === 'number') {
      return new MicrogridError('MODBUS_EXCEPTION', `device answered Modbus exception ${e.modbusCode}`, {
        field: where,
        value: e.modbusCode,
        expected: 'a normal reply',
        cause: err,
      });
    }
    if (e.name === 'TransactionTimedOutError' || e.errno === 'ETIMEDOUT') {
      return new MicrogridError('MODBUS_TIMEOUT', `no answer within ${this.options.timeoutMs} ms`, {
        field: where,
        expected: 'a reply',
        cause: err,
      });
    }
    if (
      e.name === 'PortNotOpenError' ||
      e.errno === 'ECONNREFUSED' ||
      e.code === 'ECONNRESET' ||
      e.code === 'EPIPE' ||
      !this.#client?.isOpen
    ) {
      return new MicrogridError('MODBUS_CONNECT', `connection lost (${e.message ?? String(err)})`, {
        field: where,
        cause: err,
      });
    }
    return new MicrogridError('MODBUS_BAD_REPLY', `garbled reply (${e.message ?? String(err)})`, {
      field: where,
      expected: 'a well-formed Modbus reply',
      cause: err,
    });
  }

  #dropClient(): void {
    const c = this.#client;
    this.#client = null;
    if (c) {
      try {
        c.close(() => {});
      } catch {
        // already closed
      }
    }
  }

  async connect(): Promise<void> {
    if (this.#closed) throw new MicrogridError('MODBUS_CONNECT', `bus ${this.key} is closed`);
    await this.#connect();
  }

  async #connect(): Promise<ModbusRTU> {
    if (this.#client?.isOpen) return this.#client;
    if (this.#client) this.#dropClient();
    if (this.#connecting) return this.#connecting;
    if (Date.now() < this.#nextConnectAt && this.#lastError) throw this.#lastError;
    this.#connecting = this.#open().finally(() => (this.#connecting = null));
    return this.#connecting;
  }

  async #open(): Promise<ModbusRTU> {
    const client = new ModbusClient();
    // modbus-serial re-emits port errors as 'error' events; unhandled they would
    // crash the process. The request that hits a dead port fails on its own.
    client.on('error', () => {});
    const spec = this.spec;
    try {
      const opening =
        spec.type === 'tcp'
          ? client.connectTCP(spec.host, { port: spec.port })
          : client.connectRTUBuffered(spec.path, {
              baudRate: spec.baudRate,
              parity: spec.parity,
              dataBits: 8,
              stopBits: 1,
            });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`connect timed out after ${this.options.timeoutMs} ms`)),
          this.options.timeoutMs,
        );
      });
      try {
        await Promise.race([opening, timeout]);
      } finally {
        clearTimeout(timer);
      }
      opening.catch(() => {});
      this.stats.reconnects++;
      this.#backoff = this.options.reconnectMinMs;
      this.#lastError = null;
      // A dropped socket makes isOpen false; the next request reconnects.
      if (this.#closed) {
        client.close(() => {});
        throw new MicrogridError('MODBUS_CONNECT', `bus ${this.key} is closed`);
      }
      this.#client = client;
      return client;
    } catch (cause) {
      try {
        client.close(() => {});
      } catch {
        // never opened
      }
      if (cause instanceof MicrogridError) throw cause;
      const err = new MicrogridError(
        'MODBUS_CONNECT',
        `cannot connect (${(cause as Error).message ?? String(cause)})`,
        {
          field: this.key,
          expected:
            spec.type === 'tcp' ? 'a Modbus TCP server listening there' : 'a serial port that exists and can be opened',
          cause,
        },
      );
      this.#lastError = err;
      // Exponential backoff with jitter: a dead host costs one failed connect per backoff step, not one per request.
      this.#nextConnectAt = Date.now() + Math.round(this.#backoff * (0.75 + Math.random() * 0.5));
      this.#backoff = Math.min(this.#backoff * 2, this.options.reconnectMaxMs);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0))
      job.reject(new MicrogridError('MODBUS_CONNECT', `bus ${this.key} is closed`));
    const c = this.#client;
    this.#client = null;
    // modbus-serial may never call back when closing a socket the peer already
    // closed (test/e2e/faults.test.ts hung here after a device went away and came
    // back): shutdown does not wait on that callback for more than a second.
    if (!c) return;
    if (!c.isOpen) {
      this.#dropQuietly(c);
      return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      c.close(() => (clearTimeout(t), resolve()));
    });
  }

  #dropQuietly(c: ModbusRTU): void {
    try {
      c.close(() => {});
    } catch {
      // already closed
    }
  }
}
