#!/usr/bin/env node
// `npm test`: system check, typecheck, lint (eslint, prettier --check, the
// room and cycle rules of .dependency-cruiser.cjs), then every test file under test/
// through node's own runner. Node 20's --test does not expand globs or
// directories for .ts files, so the files are listed here explicitly.
//   npm test                       everything
//   npm test -- test/core          only files under a path (skips typecheck and lint)
//   npm test -- --no-lint --no-typecheck   (--no-lint skips eslint, prettier and depcruise)
//   npm test -- --no-install          never install missing system packages (also MGX_NO_INSTALL=1)
//
// Missing system packages are installed with apt-get when this may (root, or
// sudo without a password), else the run stops with the one apt-get line. The
// tests run with MGX_TEST_RUN set to an id of this run; every process they
// start inherits it, so when they end, any process still carrying it was left
// running by a test: it is named, killed, and the run fails.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkSystem } from './check-system.mjs';
import { aptInstall } from './system-packages.mjs';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const paths = args.filter((a) => !a.startsWith('--'));
const partial = paths.length > 0;

function step(name, cmd, cmdArgs, env = process.env) {
  const t0 = Date.now();
  process.stdout.write(`\n▶ ${name}\n`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`\n✖ ${name} failed (exit ${r.status ?? r.signal})`);
    return r.status || 1;
  }
  process.stdout.write(`✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  return 0;
}

/** How apt-get may be run here without a password: '' as root, 'sudo -n' with password-less sudo, else null. */
function privilege() {
  if (process.getuid?.() === 0) return '';
  return spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0 ? 'sudo -n ' : null;
}

/**
 * Installs the system packages with apt-get when it may; true when it ran and
 * succeeded. It installs the whole list, not only those found missing: one
 * missing module can hide the next (pymodbus.server stops at `serial` before
 * it reaches `serial_asyncio`), and apt-get leaves installed ones as they are.
 */
function installPackages(missing) {
  const prefix = privilege();
  if (prefix === null || flags.has('--no-install') || process.env.MGX_NO_INSTALL === '1') return false;
  console.error(`npm test: missing system packages: ${missing.join(', ')}`);
  const cmd = `${prefix}apt-get update && ${prefix}${aptInstall()}`;
  console.error(`npm test: installing the missing system packages: ${cmd}`);
  const r = spawnSync('sh', ['-c', cmd], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}

/** Processes (other than this one) whose environment carries this run's id: started by a test and still running. */
function leftovers(runId) {
  const out = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`MGX_TEST_RUN=${runId}`)) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
      if (state !== 'Z') out.push({ pid: Number(pid), cmd });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

function testFiles(root) {
  const out = [];
  const walk = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
    else if (/\.test\.ts$/.test(p)) out.push(relative(process.cwd(), p));
  };
  walk(root);
  return out;
}

let system = checkSystem();
if (system.missing.length && installPackages(system.missing)) system = checkSystem();
if (system.problems.length) {
  for (const p of system.problems) console.error(`npm test: ${p}`);
  process.exit(1);
}

if (!partial && !flags.has('--no-typecheck')) {
  const rc = step('typecheck (tsc --noEmit)', 'npx', ['--no-install', 'tsc', '--noEmit', '-p', 'tsconfig.json']);
  if (rc) process.exit(rc);
}
if (!partial && !flags.has('--no-lint')) {
  // All three run, so one run names every kind of problem.
  const rc = [
    step('lint (eslint)', 'npx', ['--no-install', 'eslint', '.', '--max-warnings', '0']),
    step('format (prettier --check)', 'npx', ['--no-install', 'prettier', '--check', '.', '--log-level', 'warn']),
    step('rooms and cycles (depcruise)', 'npx', [
      '--no-install',
      'depcruise',
      '--config',
      '.dependency-cruiser.cjs',
      '--output-type',
      'err',
      '.',
    ]),
  ].find((r) => r !== 0);
  if (rc) process.exit(rc);
}

const files = (partial ? paths : ['test']).flatMap(testFiles);
if (files.length === 0) {
  console.error(`npm test: no test files found under ${(partial ? paths : ['test']).join(', ')}`);
  process.exit(1);
}
const runId = randomUUID();
let rc = step(
  `tests (${files.length} files)`,
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
  {
    ...process.env,
    MGX_TEST_RUN: runId,
  },
);
// A process that outlives its test is killed here and fails the run, so a
// leak shows on the machine that made it instead of on the next one.
await new Promise((r) => setTimeout(r, 500)); // a child told to stop in a test's last after() may still be exiting
const left = leftovers(runId);
if (left.length) {
  console.error(`\n✖ the tests left ${left.length} process(es) running (killed now):`);
  for (const p of left) {
    console.error(`  pid ${p.pid}: ${p.cmd}`);
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  rc ||= 1;
} else process.stdout.write('✔ no process started by the tests is still running\n');
process.exit(rc);
