/** The bridge's background work (set-ups, cycles, MQTT messages), so stop() can wait for it to end. */
export class Inflight {
  readonly #running = new Set<Promise<unknown>>();

  track<T>(p: Promise<T>): Promise<T> {
    this.#running.add(p);
    // The caller handles p's rejection; this copy only forgets it.
    p.finally(() => this.#running.delete(p)).catch(() => {});
    return p;
  }

  /** Resolves when everything tracked so far has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }
}
