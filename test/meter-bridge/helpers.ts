import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { join } from 'node:path';
import { validateConfig } from '../../core/config/validate.js';
import { openLedger, type Ledger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { tempDir } from '../helpers/tmp.js';

export const PEER = fileURLToPath(new URL('./peers/sunspec_server.py', import.meta.url));

/** Starts a child process, killed when the test file ends; resolves when its output matches `ready`. */
export function startProcess(
  cmd: string,
  args: string[],
  ready: RegExp | null,
  timeoutMs = 15_000,
): Promise<{ child: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    });
  after(stop);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready after ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = (): void => {
      if (ready === null || ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, output: () => out, stop });
      }
    };
    child.stdout!.on('data', (d: Buffer) => ((out += d.toString()), check()));
    child.stderr!.on('data', (d: Buffer) => ((out += d.toString()), check()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}:\n${out}`));
    });
    if (ready === null) check();
  });
}

/** Waits until `cond` holds, polling. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function waitForFile(path: string, timeoutMs = 5000): Promise<void> {
  await waitUntil(() => existsSync(path), timeoutMs, path);
}

/** A fresh ledger with one participant owning grid meters `meters`. */
export function ledgerWithMeters(meters = ['m1']): Ledger {
  const ledger = openLedger(join(tempDir('mgx-ledger-'), 'ledger.db'));
  const cfg = validateConfig({
    participants: [{ id: 'p1', name: 'P1', meters: meters.map((id) => ({ id, role: 'grid' })) }],
  });
  for (const p of cfg.participants) upsertParticipant(ledger, p, 0);
  return ledger;
}
