/** What a bus is connected to: one TCP host:port, or one serial port (RS485). */
export type BusSpec =
  | { type: 'tcp'; host: string; port: number }
  | { type: 'rtu'; path: string; baudRate: number; parity: 'none' | 'even' | 'odd' };

export interface BusOptions {
  /** Every request gets an answer or an error within this time. modbus-serial's own default is no timeout at all. */
  timeoutMs: number;
  /** Retries after a timeout or a garbled reply (not after a Modbus exception: the device's answer will not change). */
  retries: number;
  /** Quiet time between the end of one request and the start of the next. */
  gapMs: number;
  /** After a timeout on RTU, wait this long (discarding anything that arrives) before the next request. */
  drainMs: number;
  /** Reconnect backoff: first wait, doubling up to the max. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export interface RegisterRead {
  unitId: number;
  /** 3 = read holding registers, 4 = read input registers. */
  fc: 3 | 4;
  address: number;
  count: number;
}

export interface BusStats {
  requests: number;
  errors: number;
  timeouts: number;
  retries: number;
  reconnects: number;
}

/** One physical bus: one request in flight, in order. */
export interface ModbusBus {
  readonly key: string;
  read(req: RegisterRead): Promise<number[]>;
  /** Opens the connection now (reads open it too); fails with MODBUS_CONNECT, honouring the reconnect backoff. */
  connect(): Promise<void>;
  readonly stats: Readonly<BusStats>;
  /** Requests waiting, including the one in flight. */
  readonly pending: number;
  close(): Promise<void>;
}

export function busKey(spec: BusSpec): string {
  return spec.type === 'tcp' ? `tcp://${spec.host}:${spec.port}` : `rtu:${spec.path}`;
}

export function defaultBusOptions(spec: BusSpec, o: Partial<BusOptions> = {}): BusOptions {
  const timeoutMs = o.timeoutMs ?? 1000;
  return {
    timeoutMs,
    retries: o.retries ?? 2,
    // RS485 devices need silence between frames (3.5 character times at least;
    // many cheap meters need far more), so RTU waits 25 ms by default. TCP
    // needs none.
    gapMs: o.gapMs ?? (spec.type === 'rtu' ? 25 : 0),
    drainMs: o.drainMs ?? Math.min(timeoutMs, 500),
    reconnectMinMs: o.reconnectMinMs ?? 250,
    reconnectMaxMs: o.reconnectMaxMs ?? 30_000,
  };
}
