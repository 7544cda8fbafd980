/**
 * Calls `run(due)` at every multiple of `periodMs` on the wall clock until
 * the returned stop is called. Aligned, not chained: a slow cycle does not
 * shift the next one (the cycle itself skips a device still busy).
 */
export function scheduleCycles(periodMs: number, run: (due: number) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = (): void => {
    if (stopped) return;
    const due = Math.ceil((Date.now() + 1) / periodMs) * periodMs;
    timer = setTimeout(() => {
      run(due);
      arm();
    }, due - Date.now());
  };
  arm();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
