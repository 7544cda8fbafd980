import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runMgxAsync, spawnMgx } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';
import { devicesFromMetrics, type StatusReport } from '../../app/commands/status.js';
import type { RuntimeInfo } from '../../app/runtime-file.js';
import { openLedger } from '../../ledger/ledger.js';

// No token variable is set for any command here: reading local state needs none.
const NO_SECRETS = { MGX_OPERATOR_TOKEN: '', MGX_AUDITOR_TOKEN: '', MGX_SETTLER_KEY: '' };

const LINK = /sign in as (operator|auditor|household h01): (http:\/\/127\.0\.0\.1:\d+)\/#token=([A-Za-z0-9_-]+)/g;

function links(output: string): Map<string, { base: string; token: string }> {
  return new Map([...output.matchAll(LINK)].map((m) => [m[1]!, { base: m[2]!, token: m[3]! }]));
}

async function stop(p: ReturnType<typeof spawnMgx>): Promise<void> {
  p.child.kill('SIGTERM');
  const { code } = await p.exited;
  assert.equal(code, 0, p.output());
}

test('the demo is a tour and the operator tools find the running instance: sign-in links per role, runtime.json, mgx status and mgx audit with no flags', async () => {
  const dataDir = join(tempDir(), 'data');
  // The demo's own speed (60): at 900 a device is polled once per 15 market minutes and boundary readings come after
  // metering.
  const p = spawnMgx(['start', '--port', '0', '--data-dir', dataDir], { env: NO_SECRETS });
  try {
    const url = (await p.waitFor(/running at (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
    await p.waitFor(/sign in as household h01: /);

    // One sign-in link per role, each token in its own 0600 file, each accepted by the API for its role.
    const first = links(p.output());
    assert.deepEqual([...first.keys()].sort(), ['auditor', 'household h01', 'operator']);
    for (const [who, { base, token }] of first) {
      assert.equal(base, url);
      const file = join(dataDir, 'tokens', who === 'household h01' ? 'household-h01.token' : `${who}.token`);
      assert.equal(statSync(file).mode & 0o777, 0o600, file);
      assert.equal(readFileSync(file, 'utf8').trim(), token);
      const me = (await (await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        role: string;
        participant: string | null;
      };
      assert.deepEqual([me.role, me.participant], who === 'household h01' ? ['household', 'h01'] : [who, null]);
    }
    const household = { authorization: `Bearer ${first.get('household h01')!.token}` };
    assert.equal((await fetch(`${url}/api/participants/h01`, { headers: household })).status, 200);
    assert.equal(
      (await fetch(`${url}/api/participants/h02`, { headers: household })).status,
      403,
      'a household sees only its own',
    );

    // The runtime file names this instance.
    const info = JSON.parse(readFileSync(join(dataDir, 'runtime.json'), 'utf8')) as RuntimeInfo;
    assert.equal(info.pid, p.child.pid);
    assert.equal(info.url, url);
    assert.match(info.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+/);
    assert.match(info.contract, /^0x[0-9a-fA-F]{40}$/);

    await p.waitFor(/interval \S+ final/, 90_000);
    const devices = Number((await p.waitFor(/meter bridge polling (\d+) devices/))[1]);
    // mgx status, no --url, no --rpc, no token: the instance that runs, its devices as /metrics counts them, its chain.
    const r = await runMgxAsync(['status', '--data-dir', dataDir, '--format', 'json'], { env: NO_SECRETS });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as StatusReport;
    assert.deepEqual(s.instance.state, 'running');
    assert.equal(s.instance.pid, p.child.pid);
    assert.equal(s.server.url, url);
    assert.equal(s.server.reachable, true);
    const fromMetrics = devicesFromMetrics(await (await fetch(`${url}/metrics`)).text())!;
    assert.equal(s.server.devices!.online + s.server.devices!.stale + s.server.devices!.offline, devices);
    assert.equal(fromMetrics.online + fromMetrics.stale + fromMetrics.offline, devices);
    assert.ok(s.server.devices!.online >= 1, `devices online: ${JSON.stringify(s.server.devices)}`);
    assert.equal(s.chain.rpcUrl, info.rpcUrl);
    assert.equal(s.chain.contract, info.contract);
    assert.ok(s.chain.reachable && s.chain.block! >= 1);
    assert.ok(s.intervals.final! >= 1);

    // mgx doctor beside the running demo: every check passes, the app among them.
    const doc = await runMgxAsync(['doctor', '--data-dir', dataDir], { env: NO_SECRETS });
    assert.equal(doc.status, 0, doc.stdout + doc.stderr);
    assert.match(doc.stdout, new RegExp(`✔ app +running, pid ${p.child.pid}, ${url.replace(/\./g, '\\.')} answers`));
    assert.match(doc.stdout, /✔ ledger +\S+: consistent/);

    // mgx audit, no --rpc/--contract: against the embedded chain of the running app.
    const a = await runMgxAsync(['audit', '--data-dir', dataDir, '--format', 'json'], {
      env: NO_SECRETS,
      timeoutMs: 120_000,
    });
    assert.equal(a.status, 0, a.stdout + a.stderr);
    const audit = JSON.parse(a.stdout) as { pass: boolean; intervals: unknown[] };
    assert.equal(audit.pass, true);
    assert.ok(audit.intervals.length >= 1, a.stdout);
  } finally {
    await stop(p);
  }

  // A clean stop removes the runtime file; status then says so and still reads the ledger.
  assert.equal(existsSync(join(dataDir, 'runtime.json')), false);
  let r = await runMgxAsync(['status', '--data-dir', dataDir], { env: NO_SECRETS });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /app +not running \(no runtime\.json/);
  assert.match(r.stdout, /chain +embedded \(runs with the app\) not reachable/);

  // A restart reuses the tokens: the links stay valid.
  const tokensBefore = [...links(p.output()).values()].map((l) => l.token).sort();
  const q = spawnMgx(['start', '--port', '0', '--data-dir', dataDir, '--speed', '900'], { env: NO_SECRETS });
  try {
    await q.waitFor(/sign in as household h01: /, 60_000);
    assert.deepEqual([...links(q.output()).values()].map((l) => l.token).sort(), tokensBefore);
  } finally {
    await stop(q);
  }

  // A runtime file left by an app that no longer runs (killed: no cleanup) is told apart by its pid.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const left: RuntimeInfo = {
    pid: dead,
    url: 'http://127.0.0.1:1',
    rpcUrl: 'http://127.0.0.1:1',
    chainId: 31337,
    contract: `0x${'0'.repeat(40)}`,
    embeddedChain: true,
    startedAt: new Date().toISOString(),
    version: '0',
    configSource: 'embedded demo',
  };
  writeFileSync(join(dataDir, 'runtime.json'), JSON.stringify(left));
  r = await runMgxAsync(['status', '--data-dir', dataDir], { env: NO_SECRETS });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`app +not running: runtime\\.json names pid ${dead}, which no longer runs`));
  assert.match(r.stdout, /server +\(none\)/, "a dead instance's URL is not asked");
  r = await runMgxAsync(['doctor', '--data-dir', dataDir], { env: NO_SECRETS });
  assert.match(
    r.stdout,
    new RegExp(`! app +\\S+runtime\\.json names pid ${dead}, which no longer runs: the app was killed or crashed`),
  );
  r = await runMgxAsync(['audit', '--data-dir', dataDir], { env: NO_SECRETS });
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    new RegExp(
      `no chain to audit against: the app that wrote \\S+runtime\\.json \\(pid ${dead}\\) no longer runs.*\\[AUDIT_INPUT\\]`,
    ),
  );
});

test('mgx status and mgx audit read local state of a configured microgrid without its secrets; mgx start still requires them', async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  openLedger(join(dataDir, 'ledger.sqlite')).close();
  const cfg = join(dir, 'microgrid.yaml');
  writeFileSync(
    cfg,
    [
      'chain:',
      '  rpcUrl: http://127.0.0.1:1',
      '  chainId: 31337',
      '  privateKey: { env: MGX_TEST_UNSET_KEY }',
      '  contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3"',
      'auth:',
      '  tokens:',
      '    - { token: { env: MGX_TEST_UNSET_TOKEN }, role: operator }',
      '',
    ].join('\n'),
  );
  let r = await runMgxAsync(['status', '--config', cfg, '--data-dir', dataDir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /chain +http:\/\/127\.0\.0\.1:1 not reachable, EnergyCredits 0x5FbDB2315678afecb367f032d93F642f64180aa3/,
  );
  r = await runMgxAsync(['audit', '--config', cfg, '--data-dir', dataDir, '--format', 'json']);
  assert.doesNotMatch(r.stderr, /SECRET_MISSING/);
  r = await runMgxAsync(['start', '--config', cfg, '--data-dir', dataDir, '--port', '0']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /MGX_TEST_UNSET_KEY is not set.*\[SECRET_MISSING\]/);
});
