import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a running `mgx start` tells the other commands about itself, in
 * `<dataDir>/runtime.json`: its own URLs, so `mgx status` and `mgx audit`
 * ask the instance that runs (its port may be --port 0, its chain an anvil on
 * a free port) instead of guessing from the config.
 */
export interface RuntimeInfo {
  pid: number;
  /** The dashboard/API base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  rpcUrl: string;
  chainId: number;
  contract: string;
  embeddedChain: boolean;
  startedAt: string;
  version: string;
  configSource: string;
}

export type RuntimeLookup =
  | { state: 'running'; file: string; info: RuntimeInfo }
  /** Written by an app that no longer runs (killed, crashed): its URLs answer nothing or someone else. */
  | { state: 'stale'; file: string; info: RuntimeInfo }
  | { state: 'absent'; file: string };

export const runtimeFile = (dataDir: string): string => join(dataDir, 'runtime.json');

/** Written to a temporary name and renamed: a reader sees the old file or the whole new one, never half. */
export function writeRuntimeFile(dataDir: string, info: RuntimeInfo): void {
  const file = runtimeFile(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, file);
}

/** Removes the file on a clean stop, unless another instance has replaced it meanwhile. */
export function removeRuntimeFile(dataDir: string, pid = process.pid): void {
  const found = readRuntimeFile(dataDir);
  if (found.state !== 'absent' && found.info.pid === pid) rmSync(found.file, { force: true });
}

/** Is a process with this pid alive? EPERM means it is, under another user. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readRuntimeFile(dataDir: string): RuntimeLookup {
  const file = runtimeFile(dataDir);
  if (!existsSync(file)) return { state: 'absent', file };
  let info: RuntimeInfo;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as RuntimeInfo;
  } catch {
    // Only this module writes it, atomically; an unreadable one is treated as left by a dead app.
    return { state: 'absent', file };
  }
  if (typeof info?.pid !== 'number' || typeof info.url !== 'string') return { state: 'absent', file };
  return { state: pidAlive(info.pid) ? 'running' : 'stale', file, info };
}
