import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MGX_BIN = fileURLToPath(new URL('../../app/bin/mgx.js', import.meta.url));

export interface MgxResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `mgx ARGS` to completion (a real process, as a user would). */
export function runMgx(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): MgxResult {
  const r = spawnSync(process.execPath, [MGX_BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, MGX_CONFIG: '', MGX_DATA_DIR: '', ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Processes spawnMgx started that have not exited. */
const live = new Map<ChildProcess, Promise<unknown>>();

// A test that fails before it stops its mgx would leave it running, and the test file (whose pipes it holds) waiting
// on it for good: once the file's tests are done, whatever is left gets SIGTERM (mgx stops its chain and devices),
// then SIGKILL after 5 s.
after(async () => {
  await Promise.all(
    [...live].map(async ([child, exited]) => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }),
  );
});

/**
 * Starts `mgx ARGS` in the background; `waitFor` resolves when stdout matches.
 * `detached`: in its own process group, so `process.kill(-child.pid, sig)` reaches the whole app.
 */
export function spawnMgx(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; detached?: boolean } = {},
): {
  child: ChildProcess;
  output: () => string;
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
} {
  const child = spawn(process.execPath, [MGX_BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, MGX_CONFIG: '', MGX_DATA_DIR: '', MGX_LOG_FORMAT: 'json', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
  let out = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of [...waiters]) {
      const m = out.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  live.set(child, exited);
  return {
    child,
    output: () => out,
    exited,
    waitFor: (re, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const m = out.match(re);
        if (m) return resolve(m);
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${re}; output so far:\n${out}`)),
          timeoutMs,
        );
        waiters.push({ re, resolve: (x) => (clearTimeout(timer), resolve(x)) });
        // eslint-disable-next-line @typescript-eslint/no-floating-promises -- exited only resolves
        void exited.then(() => setTimeout(() => reject(new Error(`process exited before ${re}; output:\n${out}`)), 50));
      }),
  };
}

/** Runs `mgx ARGS` to completion without blocking the event loop (for tests that serve a simulator in-process). */
export function runMgxAsync(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<MgxResult> {
  const child = spawn(process.execPath, [MGX_BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, MGX_CONFIG: '', MGX_DATA_DIR: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  return new Promise((resolve) =>
    child.on('close', (status) => (clearTimeout(timer), resolve({ status, stdout, stderr }))),
  );
}
