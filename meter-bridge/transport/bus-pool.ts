import { ModbusClientBus } from './modbus-bus.js';
import { busKey, defaultBusOptions, type BusOptions, type BusSpec, type BusStats, type ModbusBus } from './types.js';

/**
 * One bus per physical connection: devices that share an RS485 port or a TCP
 * host:port (a gateway with several unit ids) share its queue and connection.
 */
export class BusPool {
  readonly #buses = new Map<string, ModbusBus>();
  readonly #options: Partial<BusOptions>;
  readonly #factory: (spec: BusSpec, options: BusOptions) => ModbusBus;

  constructor(
    options: Partial<BusOptions> = {},
    factory: (spec: BusSpec, options: BusOptions) => ModbusBus = (s, o) => new ModbusClientBus(s, o),
  ) {
    this.#options = options;
    this.#factory = factory;
  }

  get(spec: BusSpec): ModbusBus {
    const key = busKey(spec);
    let bus = this.#buses.get(key);
    if (!bus) this.#buses.set(key, (bus = this.#factory(spec, defaultBusOptions(spec, this.#options))));
    return bus;
  }

  /** Counters summed over every bus. */
  stats(): BusStats {
    const t: BusStats = { requests: 0, errors: 0, timeouts: 0, retries: 0, reconnects: 0 };
    for (const b of this.#buses.values()) for (const k of Object.keys(t) as (keyof BusStats)[]) t[k] += b.stats[k];
    return t;
  }

  get size(): number {
    return this.#buses.size;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#buses.values()].map((b) => b.close()));
    this.#buses.clear();
  }
}
