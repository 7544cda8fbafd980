import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
  renameSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * A bounded on-disk FIFO of line-protocol batches, one file per batch named by
 * a sequence number, so order survives a restart. Files are written to a temp
 * name and renamed, so a crash never leaves half a batch that would be sent.
 * When the spool is over its byte limit the oldest batches are dropped (and
 * counted): the bound is what keeps a months-long outage from filling the
 * disk of a gateway.
 */
export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  #seq: number;
  #bytes = 0;
  #files: { name: string; bytes: number; lines: number }[] = [];
  droppedLines = 0;

  constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    mkdirSync(dir, { recursive: true });
    const names = readdirSync(dir)
      .filter((f) => /^\d{12}\.lp$/.test(f))
      .sort();
    for (const name of names) {
      const bytes = statSync(join(dir, name)).size;
      const lines = readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean).length;
      this.#files.push({ name, bytes, lines });
      this.#bytes += bytes;
    }
    const last = names.at(-1);
    this.#seq = last ? Number(last.slice(0, 12)) + 1 : 1;
  }

  get size(): number {
    return this.#files.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get lines(): number {
    return this.#files.reduce((s, f) => s + f.lines, 0);
  }

  push(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const name = `${String(this.#seq++).padStart(12, '0')}.lp`;
    const body = `${lines.join('\n')}\n`;
    const tmp = join(this.dir, `${name}.tmp`);
    writeFileSync(tmp, body);
    renameSync(tmp, join(this.dir, name));
    const bytes = Buffer.byteLength(body);
    this.#files.push({ name, bytes, lines: lines.length });
    this.#bytes += bytes;
    while (this.#bytes > this.maxBytes && this.#files.length > 1) {
      const f = this.#files.shift()!;
      unlinkSync(join(this.dir, f.name));
      this.#bytes -= f.bytes;
      this.droppedLines += f.lines;
      appendFileSync(
        join(this.dir, 'dropped.log'),
        `${new Date().toISOString()} dropped ${f.name} (${f.lines} lines): spool over ${this.maxBytes} bytes\n`,
      );
    }
  }

  /** The oldest batch, without removing it. */
  peek(): { name: string; lines: string[] } | undefined {
    const f = this.#files[0];
    if (!f) return undefined;
    return { name: f.name, lines: readFileSync(join(this.dir, f.name), 'utf8').split('\n').filter(Boolean) };
  }

  /**
   * The oldest batches, whole, until they hold at least `minLines` lines (or the spool ends), without removing them.
   */
  peekMany(minLines: number): { name: string; lines: string[] }[] {
    const out: { name: string; lines: string[] }[] = [];
    let n = 0;
    for (const f of this.#files) {
      if (n >= minLines) break;
      const lines = readFileSync(join(this.dir, f.name), 'utf8').split('\n').filter(Boolean);
      out.push({ name: f.name, lines });
      n += lines.length;
    }
    return out;
  }

  /** Removes the oldest batch once it has been delivered. */
  ack(name: string): void {
    const f = this.#files[0];
    if (!f || f.name !== name) return;
    this.#files.shift();
    this.#bytes -= f.bytes;
    unlinkSync(join(this.dir, name));
  }
}
