import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { freePort } from '../../meter-bridge/simulators/free-port.js';
import { tempDir } from './tmp.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
const SETPRIV = '/usr/bin/setpriv';

export interface Broker {
  /** mqtt://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Its folder: mosquitto.conf, the persistence file, the password file. */
  dir: string;
  /** Everything it logged (stdout and stderr). */
  output(): string;
  /** SIGTERM (SIGKILL after 2 s); resolves when it has exited. */
  stop(): Promise<void>;
  /** SIGKILL: a power cut, the persistence file as the last autosave left it. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same folder (sessions and retained messages persist). */
  restart(): Promise<void>;
}

export interface BrokerOptions {
  /** Users allowed to connect; without, anonymous clients are allowed. */
  users?: Record<string, string>;
  /** Port to listen on (default: a free one). */
  port?: number;
}

/**
 * Debian's mosquitto on a free loopback port, in its own temp folder, with
 * persistence on (a restarted broker keeps persistent sessions, their queued
 * QoS 1 messages and retained messages). Stopped when the test process exits
 * at the latest. Call `stop()` in an `after()`.
 */
export async function startBroker(opts: BrokerOptions = {}): Promise<Broker> {
  const dir = tempDir('mgx-mosquitto-');
  const port = opts.port ?? (await freePort());
  // Started as root, mosquitto drops to user "mosquitto", which cannot read our 0700 temp folder: stay who we are.
  const lines = [
    `user ${userInfo().username}`,
    `listener ${port} 127.0.0.1`,
    'persistence true',
    `persistence_location ${dir}/`,
    'autosave_interval 1',
    'log_dest stdout',
    'log_type error',
    'log_type warning',
    'log_type notice',
  ];
  if (opts.users) {
    const pw = join(dir, 'passwd');
    writeFileSync(pw, '');
    for (const [u, p] of Object.entries(opts.users)) {
      const r = spawnSync(MOSQUITTO_PASSWD, ['-b', pw, u, p], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
    }
    lines.push('allow_anonymous false', `password_file ${pw}`);
  } else {
    lines.push('allow_anonymous true');
  }
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, lines.join('\n') + '\n');

  let child: ChildProcess | undefined;
  let out = '';
  const start = async (): Promise<void> => {
    // setpriv (util-linux, on every Debian) execs mosquitto with a parent-death signal: a test process killed
    // outright (a runner's timeout, SIGKILL) runs no exit handler, and its broker would outlive it.
    const c = spawn(SETPRIV, ['--pdeathsig', 'KILL', MOSQUITTO, '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const end = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`mosquitto exited with ${c.exitCode}:\n${out}`);
      if (await accepts(port)) return;
      if (Date.now() > end) throw new Error(`mosquitto not listening on 127.0.0.1:${port} after 10 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const signal = (sig: NodeJS.Signals): Promise<void> =>
    new Promise((resolve) => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill(sig);
      if (sig !== 'SIGKILL') setTimeout(() => c.kill('SIGKILL'), 2000).unref();
    });
  process.once('exit', () => child?.kill('SIGKILL'));
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    output: () => out,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    restart: async () => {
      await signal('SIGTERM');
      await start();
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}
