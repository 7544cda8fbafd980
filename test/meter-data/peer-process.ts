import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Debian's python3, whose dist-packages hold python3-pymodbus (scripts/system-packages.mjs PYTHON). */
const PYTHON = '/usr/bin/python3';

/** The fault-scripted peers (test/meter-data/peers/): a SunSpec household device and an SDM630-style meter. */
export const PEERS = {
  sunspec: fileURLToPath(new URL('./peers/sunspec_device.py', import.meta.url)),
  sdm630: fileURLToPath(new URL('./peers/sdm630_meter.py', import.meta.url)),
} as const;

export interface PeerProcess {
  /** Sends one control command and waits for the peer's "OK" (rejects on "ERR"). */
  send(command: string): Promise<void>;
  /** The device's own account of its state (true Wh, raw registers). */
  state(): Promise<Record<string, unknown>>;
  /** Closes the control channel (the peer stops serving and exits) and waits for the exit. */
  stop(): Promise<void>;
  output(): string;
}

/**
 * Starts a peer under Debian's python3 (python3-pymodbus 3.0) on a TCP port
 * or a serial device; resolves once it serves. Commands go one at a time:
 * each waits for its answer, so a poll after `await send(...)` reads the
 * changed registers.
 */
export async function startPeer(
  kind: keyof typeof PEERS,
  transport: { tcp: number } | { rtu: string },
  timeoutMs = 15_000,
): Promise<PeerProcess> {
  const args = [PEERS[kind], ...('tcp' in transport ? ['--tcp', String(transport.tcp)] : ['--rtu', transport.rtu])];
  const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    log += line + '\n';
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const nextLine = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const l = lines.shift();
      if (l !== undefined) return resolve(l);
      const timer = setTimeout(
        () => reject(new Error(`${kind} peer did not answer in ${timeoutMs} ms:\n${log}`)),
        timeoutMs,
      );
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
      // eslint-disable-next-line @typescript-eslint/no-floating-promises -- exited only resolves
      void exited.then(() => reject(new Error(`${kind} peer exited (${child.exitCode ?? child.signalCode}):\n${log}`)));
    });
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => undefined);
    return p;
  };
  const command = (cmd: string): Promise<string[]> =>
    serial(async () => {
      child.stdin.write(cmd + '\n');
      const before: string[] = [];
      for (;;) {
        const line = await nextLine();
        if (line === `OK ${cmd}`) return before;
        if (line.startsWith(`ERR ${cmd}:`)) throw new Error(`${kind} peer refused "${cmd}": ${line}`);
        before.push(line);
      }
    });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const ready = await nextLine();
    if (ready !== 'READY') throw new Error(`${kind} peer: expected READY, got ${ready}:\n${log}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    send: async (cmd) => void (await command(cmd)),
    state: async () => JSON.parse((await command('state'))[0]!) as Record<string, unknown>,
    stop,
    output: () => log,
  };
}
