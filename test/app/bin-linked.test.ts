import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';
import { VERSION } from '../../app/version.js';

// The layout `npm link` (and `npm install -g .`) makes: <prefix>/lib/node_modules/<name> → the package,
// <prefix>/bin/mgx → ../lib/node_modules/<name>/app/bin/mgx.js. Run from a folder of another project.
test('a linked mgx runs from any folder: tsx and the tsconfig come from the package, not the current folder', () => {
  const prefix = tempDir();
  mkdirSync(join(prefix, 'lib', 'node_modules'), { recursive: true });
  mkdirSync(join(prefix, 'bin'));
  symlinkSync(ROOT, join(prefix, 'lib', 'node_modules', 'microgrid-exchange'));
  symlinkSync('../lib/node_modules/microgrid-exchange/app/bin/mgx.js', join(prefix, 'bin', 'mgx'));
  const elsewhere = join(prefix, 'project');
  mkdirSync(elsewhere);
  // Another project's tsconfig in the current folder, which tsx reads by default: its paths would send
  // the package's own `import … from 'yaml'` to that project's file (the bin once loaded it).
  writeFileSync(
    join(elsewhere, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { yaml: ['./not-yaml.js'] } } }),
  );
  writeFileSync(join(elsewhere, 'not-yaml.js'), 'throw new Error("the current folder\'s tsconfig was used");\n');
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, MGX_CONFIG: '', MGX_DATA_DIR: '' };
  let r = spawnSync(join(prefix, 'bin', 'mgx'), ['--version'], {
    cwd: elsewhere,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), VERSION);
  r = spawnSync(join(prefix, 'bin', 'mgx'), ['doctor', '--data-dir', join(elsewhere, 'data')], {
    cwd: elsewhere,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /✔ config +embedded demo/);
  assert.match(r.stdout, /All checks passed\./);
});
