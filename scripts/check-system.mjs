#!/usr/bin/env node
// Fails (never skips) when a system package or a native addon the suite needs is missing,
// and prints the one line that fixes it.
import { SYSTEM_PACKAGES, PYTHON, APT_LINE } from './system-packages.mjs';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every Python file under test/ (the peers), relative to the repository. */
function pythonFiles(dir = join(ROOT, 'test')) {
  const out = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...pythonFiles(p));
    else if (p.endsWith('.py')) out.push(p);
  }
  return out;
}

/**
 * The modules each peer imports, read from its import lines (top-level and
 * inside functions: sunspec_server.py imports pymodbus.server only when it
 * serves), so the check imports exactly what the peers import.
 */
export function peerImports() {
  const modules = new Map(); // module -> first file importing it
  for (const file of pythonFiles()) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m =
        /^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import\b|import\s+([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*))/.exec(line);
      if (!m) continue;
      const names = m[1] ? [m[1]] : m[2].split(',').map((s) => s.trim());
      for (const n of names) if (!modules.has(n)) modules.set(n, relative(ROOT, file));
    }
  }
  return modules;
}

/**
 * Imports each module in Debian's python3; returns [module, missing top-level module name, first error line] for those
 * that fail.
 */
function failingImports(modules) {
  if (!existsSync(PYTHON)) return [...modules].map((m) => [m, m.split('.')[0], `${PYTHON} not found`]);
  const script = [
    'import importlib, sys',
    'for name in sys.argv[1:]:',
    '    try:',
    '        importlib.import_module(name)',
    '    except ModuleNotFoundError as e:',
    "        print('\\t'.join([name, (e.name or name).split('.')[0], str(e)]))",
    '    except Exception as e:',
    "        print('\\t'.join([name, '', type(e).__name__ + ': ' + str(e).splitlines()[0] if str(e) else type(e).__name__]))",
  ].join('\n');
  // The peers' own folders are on the path, so a peer importing a helper beside it is checked too.
  const dirs = [...new Set(pythonFiles().map((f) => dirname(f)))];
  const r = spawnSync(PYTHON, ['-c', script, ...modules], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: dirs.join(':') },
  });
  if (r.status !== 0)
    return [...modules].map((m) => [m, '', (r.stderr || `exit ${r.status}`).trim().split('\n').at(-1)]);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}

/** The system packages that are missing, each with what showed it. */
export function missingPackages() {
  const missing = new Map(); // package name -> reason
  const unknown = [];
  for (const p of SYSTEM_PACKAGES) {
    for (const f of p.files ?? []) if (!existsSync(f)) missing.set(p.name, `${f} not found`);
  }
  const imports = peerImports();
  for (const [module, top, error] of failingImports([...imports.keys()])) {
    const pkg = SYSTEM_PACKAGES.find((p) => (p.python ?? []).includes(top));
    const why = `${imports.get(module)} imports ${module}: ${error}`;
    if (pkg) {
      if (!missing.has(pkg.name)) missing.set(pkg.name, why);
    } else unknown.push(why);
  }
  return { missing, unknown };
}

export function checkSystem() {
  const problems = [];
  const { missing, unknown } = missingPackages();
  if (missing.size) {
    const list = [...missing]
      .map(([name, why]) => `  ${name} (${SYSTEM_PACKAGES.find((p) => p.name === name).why}; ${why})`)
      .join('\n');
    problems.push(`missing system packages:\n${list}\nInstall them with:\n  ${APT_LINE}`);
  }
  for (const u of unknown)
    problems.push(`${u}\nNo Debian package in scripts/system-packages.mjs provides it: add the one that does.`);
  try {
    const require = createRequire(import.meta.url);
    const Database = require('better-sqlite3');
    new Database(':memory:').close();
  } catch (err) {
    problems.push(
      `the better-sqlite3 native addon does not load (${err.message.split('\n')[0]}).\nRebuild it with:\n  npm rebuild better-sqlite3`,
    );
  }
  return { problems, missing: [...missing.keys()] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { problems } = checkSystem();
  for (const p of problems) console.error(`npm test: ${p}`);
  process.exit(problems.length ? 1 : 0);
}
