import { isMicrogridError } from '../../core/errors.js';
import type { ModbusBus } from '../transport/types.js';
import { coalesce, type PlannedRead, type RegisterGroup } from './coalesce.js';

/** Registers read in one cycle, addressable by function code and absolute address. */
export class RegisterSnapshot {
  readonly #blocks: { fc: 3 | 4; address: number; data: number[] }[] = [];

  add(fc: 3 | 4, address: number, data: number[]): void {
    this.#blocks.push({ fc, address, data });
  }

  /** The registers [from, from+count), or undefined when not read. */
  get(fc: 3 | 4, from: number, count: number): number[] | undefined {
    for (const b of this.#blocks) {
      if (b.fc === fc && from >= b.address && from + count <= b.address + b.data.length)
        return b.data.slice(from - b.address, from - b.address + count);
    }
    return undefined;
  }
}

/**
 * Runs a coalesced plan. A device that answers exception 2 (illegal data
 * address) to a merged request is asked again group by group, once: groups
 * that still fail and are optional are remembered as unsupported and left out
 * of later plans; a mandatory group's exception is the device's error.
 */
export class PlanReader {
  readonly #bus: ModbusBus;
  readonly #unitId: number;
  readonly #groups: RegisterGroup[];
  readonly #optional: Set<string>;
  readonly #maxGap: number;
  readonly unsupported = new Set<string>();
  #plan: PlannedRead[];

  constructor(
    bus: ModbusBus,
    unitId: number,
    groups: readonly RegisterGroup[],
    optional: Iterable<string>,
    maxGap = 16,
  ) {
    this.#bus = bus;
    this.#unitId = unitId;
    this.#groups = [...groups];
    this.#optional = new Set(optional);
    this.#maxGap = maxGap;
    this.#plan = coalesce(this.#groups, { maxGap });
  }

  get requests(): number {
    return this.#plan.length;
  }

  async read(): Promise<RegisterSnapshot> {
    const snap = new RegisterSnapshot();
    let replan = false;
    // Requests of one device go out one after another on its bus anyway; awaiting them in turn keeps the order
    // explicit.
    for (const r of this.#plan) {
      try {
        snap.add(
          r.fc,
          r.address,
          await this.#bus.read({ unitId: this.#unitId, fc: r.fc, address: r.address, count: r.count }),
        );
      } catch (err) {
        if (!isMicrogridError(err, 'MODBUS_EXCEPTION') || err.value !== 2) throw err;
        if (r.groups.length === 1) {
          const g = r.groups[0]!;
          if (!this.#optional.has(g.key)) throw err;
          this.unsupported.add(g.key);
          replan = true;
          continue;
        }
        for (const g of r.groups) {
          try {
            snap.add(
              g.fc,
              g.from,
              await this.#bus.read({ unitId: this.#unitId, fc: g.fc, address: g.from, count: g.to - g.from + 1 }),
            );
          } catch (e2) {
            if (!isMicrogridError(e2, 'MODBUS_EXCEPTION') || e2.value !== 2 || !this.#optional.has(g.key)) throw e2;
            this.unsupported.add(g.key);
          }
        }
        replan = true;
      }
    }
    if (replan) {
      // Merging across an unsupported register would fail again: plan the supported groups without holes.
      this.#plan = coalesce(
        this.#groups.filter((g) => !this.unsupported.has(g.key)),
        { maxGap: this.unsupported.size > 0 ? 0 : this.#maxGap },
      );
    }
    return snap;
  }
}
