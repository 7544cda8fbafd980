/**
 * A small Prometheus registry: counters, gauges and summaries with labels,
 * rendered in the text exposition format (version 0.0.4). Enough for
 * `/metrics`; no dependency, no global state (the app owns one instance).
 */

type Labels = Record<string, string>;
type Kind = 'counter' | 'gauge' | 'summary';

interface Family {
  kind: Kind;
  help: string;
  series: Map<string, { labels: Labels; value: number; count: number; sum: number; samples: number[] }>;
}

const MAX_SAMPLES = 1024;

function key(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

function fmtLabels(labels: Labels, extra: Labels = {}): string {
  const all = { ...labels, ...extra };
  const ks = Object.keys(all).sort();
  if (ks.length === 0) return '';
  return `{${ks.map((k) => `${k}="${String(all[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

export class Metrics {
  readonly #families = new Map<string, Family>();
  /** Gauges computed on scrape (devices offline, backlog) rather than pushed. */
  readonly #collectors: (() => void)[] = [];

  #series(name: string, kind: Kind, help: string, labels: Labels) {
    let f = this.#families.get(name);
    if (!f) this.#families.set(name, (f = { kind, help, series: new Map() }));
    if (f.kind !== kind) throw new Error(`metric ${name} is a ${f.kind}, not a ${kind}`);
    const k = key(labels);
    let s = f.series.get(k);
    if (!s) f.series.set(k, (s = { labels, value: 0, count: 0, sum: 0, samples: [] }));
    return s;
  }

  /**
   * Announces a metric before it has a value: its HELP and TYPE lines are
   * served from the first scrape, so a rule over a counter that has not
   * counted yet finds its name (and a reader sees every metric there is).
   */
  describe(name: string, kind: Kind, help: string): void {
    const f = this.#families.get(name);
    if (!f) this.#families.set(name, { kind, help, series: new Map() });
    else if (f.kind !== kind) throw new Error(`metric ${name} is a ${f.kind}, not a ${kind}`);
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    this.#series(name, 'counter', help, labels).value += by;
  }

  set(name: string, help: string, value: number, labels: Labels = {}): void {
    this.#series(name, 'gauge', help, labels).value = value;
  }

  /** Records one observation; the summary reports count, sum and the 0.5/0.9/0.99 quantiles of the last 1024. */
  observe(name: string, help: string, value: number, labels: Labels = {}): void {
    const s = this.#series(name, 'summary', help, labels);
    s.count++;
    s.sum += value;
    s.samples.push(value);
    if (s.samples.length > MAX_SAMPLES) s.samples.shift();
  }

  /** Registers a function run before each render (to refresh computed gauges). */
  collect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  render(): string {
    for (const c of this.#collectors) c();
    const out: string[] = [];
    for (const [name, f] of [...this.#families].sort(([a], [b]) => a.localeCompare(b))) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.kind}`);
      for (const s of f.series.values()) {
        if (f.kind !== 'summary') {
          out.push(`${name}${fmtLabels(s.labels)} ${s.value}`);
          continue;
        }
        const sorted = [...s.samples].sort((a, b) => a - b);
        for (const q of [0.5, 0.9, 0.99]) {
          const v = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
          out.push(`${name}${fmtLabels(s.labels, { quantile: String(q) })} ${v}`);
        }
        out.push(`${name}_sum${fmtLabels(s.labels)} ${s.sum}`, `${name}_count${fmtLabels(s.labels)} ${s.count}`);
      }
    }
    return out.join('\n') + '\n';
  }
}
