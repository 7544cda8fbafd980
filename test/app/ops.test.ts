import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMgx, spawnMgx } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';

test('mgx doctor passes on the demo and names each failing check with what to do', () => {
  const dir = tempDir();
  let r = runMgx(['doctor', '--data-dir', join(dir, 'data')]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const name of ['config', 'data folder', 'ledger', 'gateway key', 'devices', 'chain'])
    assert.match(r.stdout, new RegExp(`✔ ${name}`));
  assert.match(r.stdout, /All checks passed\./);

  const cfg = join(dir, 'bad.yaml');
  writeFileSync(
    cfg,
    'bridge:\n  devices:\n    - { id: inv1, kind: sunspec, transport: { type: tcp, host: 127.0.0.1, port: 1 } }\n    - { id: m1, kind: profile, profile: sdm630, transport: { type: rtu, path: /dev/mgx-no-such-port } }\nchain:\n  rpcUrl: http://127.0.0.1:1\n  chainId: 31337\n',
  );
  r = runMgx(['doctor', '--config', cfg, '--data-dir', join(dir, 'data')]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /✖ device inv1 +127\.0\.0\.1:1 not reachable \(ECONNREFUSED\)/);
  assert.match(r.stdout, /✖ device m1 +\/dev\/mgx-no-such-port: ENOENT/);
  assert.match(r.stdout, /✖ chain .*check chain\.rpcUrl/);
  assert.match(r.stdout, /✖ settler funds +chain\.privateKey is not set/);
  assert.match(r.stdout, /4 check\(s\) failed\./);
});

test('mgx status reports intervals per state, the server and the chain while running, and the ledger after', async () => {
  const dataDir = join(tempDir(), 'data');
  const p = spawnMgx(['start', '--port', '0', '--data-dir', dataDir, '--speed', '900']);
  const url = (await p.waitFor(/running at (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
  await p.waitFor(/interval \S+ final/, 60_000);
  let r = runMgx(['status', '--data-dir', dataDir, '--url', url, '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as {
    intervals: Record<string, number>;
    server: { reachable: boolean; devices: Record<string, number> | null };
    chain: { reachable: boolean; block: number | null };
  };
  assert.ok(s.intervals.final! >= 1);
  assert.equal(s.server.reachable, true);
  assert.ok(s.chain.reachable && s.chain.block! >= 1, 'the embedded chain answers');
  p.child.kill('SIGTERM');
  await p.exited;
  r = runMgx(['status', '--data-dir', dataDir, '--url', url]);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /intervals +open \d+, closed \d+, cleared \d+, .*; final \d+/);
  assert.match(r.stdout, /server +http:\/\/127\.0\.0\.1:\d+ not reachable/);
  r = runMgx(['status', '--data-dir', join(dataDir, 'nope')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no ledger in the data folder.*\[NOT_FOUND\]/);
});
