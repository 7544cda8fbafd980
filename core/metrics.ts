import { Counter, Gauge, Registry, Summary } from 'prom-client';
import { METRICS } from './metric-names.js';

/**
 * The engine's Prometheus metrics on prom-client: one Registry per instance
 * (the app owns it; not prom-client's global registry, and no default
 * process metrics, so /metrics serves exactly the table of
 * core/metric-names.ts). Every metric of the table is registered up front, so
 * its HELP and TYPE lines are served from the first scrape. The methods take
 * the table's entries, so a name, a kind or a label set cannot drift from it.
 */

type Def = (typeof METRICS)[keyof typeof METRICS];
type Of<T extends Def['type']> = Extract<Def, { type: T }>;
type LabelsOf<D extends Def> = Record<D['labels'][number], string>;

export class Metrics {
  readonly #registry = new Registry();
  readonly #counters = new Map<string, Counter>();
  readonly #gauges = new Map<string, Gauge>();
  readonly #summaries = new Map<string, Summary>();
  /** Gauges computed on scrape (devices by status, backlog) rather than pushed. */
  readonly #collectors: (() => void)[] = [];

  constructor() {
    for (const d of Object.values(METRICS) as Def[]) {
      const common = { name: d.name, help: d.help, labelNames: [...d.labels], registers: [this.#registry] };
      if (d.type === 'counter') this.#counters.set(d.name, new Counter(common));
      else if (d.type === 'gauge') this.#gauges.set(d.name, new Gauge(common));
      // Quantiles of the last day (24 one-hour buckets): recent step lag, not the lifetime's.
      else
        this.#summaries.set(
          d.name,
          new Summary({ ...common, percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 86_400, ageBuckets: 24 }),
        );
    }
  }

  inc<D extends Of<'counter'>>(def: D, labels: LabelsOf<D>, by = 1): void {
    this.#counters.get(def.name)!.inc(labels, by);
  }

  set<D extends Of<'gauge'>>(def: D, labels: LabelsOf<D>, value: number): void {
    this.#gauges.get(def.name)!.set(labels, value);
  }

  observe<D extends Of<'summary'>>(def: D, labels: LabelsOf<D>, value: number): void {
    this.#summaries.get(def.name)!.observe(labels, value);
  }

  /** Registers a function run before each render (to refresh computed gauges). */
  collect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  /** The scrape: the collectors run first, then the registry renders the text format. */
  async render(): Promise<string> {
    for (const c of this.#collectors) c();
    return this.#registry.metrics();
  }
}
