import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs: string[] = [];
let hooked = false;

/**
 * A fresh temporary folder, removed when the test file's process exits.
 * Not with node:test's `after()`: called inside a `before()` hook, that
 * registers on the hook itself and removed the folder as soon as the hook
 * returned, under a server still using it (an unlinked SQLite file keeps
 * working, so only the chain's state file showed it: ENOENT on every write).
 */
export function tempDir(prefix = 'mgx-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}
