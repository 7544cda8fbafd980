import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * The anvil processes of one embedded chain, found through /proc (none where
 * there is no /proc): an anvil whose working folder is the chain folder (how
 * embedded.ts starts it) or whose command line loads or dumps its state file
 * (how earlier versions started it). Two anvils on one state file would
 * overwrite each other's blocks, so a start stops every one it does not
 * attach to, whether a pid file names it or not.
 */
export function anvilsOf(chainDir: string, stateFile: string): number[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const pid of pids) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!cmd[0]?.endsWith('anvil')) continue;
      const onFile = cmd.some(
        (a, i) =>
          i > 0 &&
          (cmd[i - 1] === '--state' || cmd[i - 1] === '--load-state' || cmd[i - 1] === '--dump-state') &&
          a === stateFile,
      );
      if (onFile || readlinkSync(`/proc/${pid}/cwd`) === chainDir) out.push(Number(pid));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/** Running and not a zombie (a killed child of ours stays in /proc until reaped). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopProcess(pid: number, graceMs = 5000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // exited meanwhile
  }
  for (let waited = 0; processAlive(pid); waited += 50) {
    if (waited >= graceMs) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The `--port` on a process's command line (undefined: none, or the process is gone). */
export function portOf(pid: number): number | undefined {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const i = cmd.indexOf('--port');
    const port = i > 0 ? Number(cmd[i + 1]) : NaN;
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}
