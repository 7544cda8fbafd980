#!/usr/bin/env node
// `npm test`: system check, typecheck, lint, then every test file under test/
// through node's own runner. Node 20's --test does not expand globs or
// directories for .ts files, so the files are listed here explicitly.
//   npm test                       everything
//   npm test -- test/core          only files under a path (skips typecheck and lint)
//   npm test -- --no-lint --no-typecheck
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkSystem } from './check-system.mjs';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const paths = args.filter((a) => !a.startsWith('--'));
const partial = paths.length > 0;

function step(name, cmd, cmdArgs) {
  const t0 = Date.now();
  process.stdout.write(`\n▶ ${name}\n`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n✖ ${name} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
  process.stdout.write(`✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
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

const problems = checkSystem();
if (problems.length) {
  for (const p of problems) console.error(`npm test: ${p}`);
  process.exit(1);
}

if (!partial && !flags.has('--no-typecheck')) step('typecheck (tsc --noEmit)', 'npx', ['--no-install', 'tsc', '--noEmit', '-p', 'tsconfig.json']);
if (!partial && !flags.has('--no-lint')) step('lint (eslint)', 'npx', ['--no-install', 'eslint', '.', '--max-warnings', '0']);

const files = (partial ? paths : ['test']).flatMap(testFiles);
if (files.length === 0) {
  console.error(`npm test: no test files found under ${(partial ? paths : ['test']).join(', ')}`);
  process.exit(1);
}
step(`tests (${files.length} files)`, process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files]);
