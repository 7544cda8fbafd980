import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Address } from 'viem';
import { tempDir } from '../helpers/tmp.js';
import { writeConfigFile } from './config-file.js';
import { runMgx } from '../helpers/mgx-process.js';
import { anvilWithCredits } from '../contracts/chain.js';
import type { AnvilInstance } from '../../settlement/chain/anvil.js';
import type { Ledger } from '../../ledger/ledger.js';
import { verifyMerkleProof } from '../../settlement/merkle.js';
import { openLedger } from '../../ledger/ledger.js';
import { ManualClock } from '../../core/clock.js';
import { buildDashboard } from '../../dashboard/app.js';
import { auditForDashboard } from '../../audit/for-dashboard.js';
import { ENV, TOKENS, auth, fixtureConfig } from '../dashboard/fixture.js';
import { auditConfig, buildLedger, submitAll, T0, STEP } from './fixture.js';

let anvil: AnvilInstance;
let contract: Address;
let ledger: Ledger;
const dataDir = tempDir();
const configFile = (): string => writeConfigFile(dataDir, auditConfig());
const elsewhere = tempDir();
const iso = (k: number) => new Date(T0 + k * STEP).toISOString().replace('.000Z', 'Z');

before(async () => {
  ({ anvil, address: contract } = await anvilWithCredits());
  ({ ledger } = await buildLedger(dataDir, { intervals: 2, households: 6, seed: 5 }));
  await submitAll(ledger, anvil.rpcUrl, contract);
  ledger.close();
});
after(async () => {
  await anvil?.stop();
});

it('exports a self-contained bundle that verifies elsewhere with only an RPC URL, and catches a bundle edited after export', () => {
  const file = join(elsewhere, 'bundle.json');
  const ex = runMgx([
    'audit',
    'export',
    '--data-dir',
    dataDir,
    '--config',
    configFile(),
    '--rpc',
    anvil.rpcUrl,
    '--contract',
    contract,
    '--interval',
    iso(1),
    '--out',
    file,
  ]);
  assert.equal(ex.status, 0, ex.stderr);
  // Each meter's whole validated series: the 3 readings of each of the 6 meters (2 intervals).
  assert.match(ex.stdout, /wrote .*bundle\.json: 18 signed readings/);
  const b = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(b.format, 'mgx-audit-bundle/2');
  assert.ok(b.evidence.readings.every((r: { signature: string }) => /^0x[0-9a-f]{130}$/.test(r.signature)));
  assert.ok(b.transactions.commit && b.transactions.chunks.length >= 1);
  for (const t of b.proofs.trades) assert.ok(verifyMerkleProof(t.proof, b.commitment.tradesRoot, t.leaf));
  for (const r of b.proofs.readings) assert.ok(verifyMerkleProof(r.proof, b.commitment.readingsRoot, r.leaf));
  for (const c of b.proofs.credits) assert.ok(verifyMerkleProof(c.proof, b.commitment.creditsRoot, c.leaf));

  // another machine: an empty data folder, no config, no contract flag — the bundle and the RPC
  const ok = runMgx(
    ['audit', 'verify', 'bundle.json', '--rpc', anvil.rpcUrl, '--data-dir', join(elsewhere, 'nothing')],
    { cwd: elsewhere },
  );
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const rep = JSON.parse(ok.stdout);
  assert.equal(rep.pass, true);
  assert.deepEqual(
    rep.intervals[0].checks.map((c: { pass: boolean }) => c.pass),
    [true, true, true, true, true],
  );

  // the same bundle with one reading changed: named by interval, check and record
  b.evidence.readings[0].exportWh += 5;
  writeFileSync(join(elsewhere, 'edited.json'), JSON.stringify(b));
  const bad = runMgx(['audit', 'verify', 'edited.json', '--rpc', anvil.rpcUrl, '--format', 'table'], {
    cwd: elsewhere,
  });
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, new RegExp(`${iso(1)} {2}check readings {2}meter ${b.evidence.readings[0].meterId} ts`));

  writeFileSync(join(elsewhere, 'junk.json'), '{"format": nope');
  const junk = runMgx(['audit', 'verify', 'junk.json', '--rpc', anvil.rpcUrl], { cwd: elsewhere });
  assert.equal(junk.status, 2);
  assert.match(junk.stderr, /BUNDLE.*junk\.json.*AUDIT_BUNDLE/);
  writeFileSync(join(elsewhere, 'other.json'), '{"format": "something-else"}');
  const other = runMgx(['audit', 'verify', 'other.json', '--rpc', anvil.rpcUrl], { cwd: elsewhere });
  assert.equal(other.status, 2);
  assert.match(other.stderr, /format.*AUDIT_BUNDLE/);
});

it('prints the Merkle proofs of one household against the on-chain roots', () => {
  const p = runMgx([
    'audit',
    'proof',
    '--data-dir',
    dataDir,
    '--config',
    configFile(),
    '--rpc',
    anvil.rpcUrl,
    '--contract',
    contract,
    '--interval',
    iso(0),
    '--participant',
    'h0002',
  ]);
  assert.equal(p.status, 0, p.stderr);
  const proof = JSON.parse(p.stdout);
  assert.equal(proof.verified, true);
  assert.ok(proof.trades.length + (proof.credit ? 1 : 0) > 0);
  for (const t of proof.trades) assert.ok(verifyMerkleProof(t.proof, proof.tradesRoot, t.leaf));
  if (proof.credit) {
    assert.ok(verifyMerkleProof(proof.credit.proof, proof.creditsRoot, proof.credit.chunkLeaf));
    assert.equal(proof.credit.mintedOnChainWh, String(proof.credit.wh));
  }
  const unknown = runMgx([
    'audit',
    'proof',
    '--data-dir',
    dataDir,
    '--config',
    configFile(),
    '--rpc',
    anvil.rpcUrl,
    '--contract',
    contract,
    '--interval',
    iso(0),
    '--participant',
    'nobody',
  ]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /--participant.*nobody.*AUDIT_INPUT/);
});

it('serves the audit to the auditor and operator at GET /api/audit/verify, not to households', async () => {
  const l = openLedger(join(dataDir, 'ledger.sqlite'), { readonly: true });
  const deps = {
    ledger: l,
    config: fixtureConfig(),
    clock: new ManualClock(T0),
    version: 'test',
    env: ENV,
    buildBundle: false,
  };
  const app = buildDashboard({
    ...deps,
    audit: auditForDashboard({ ledger: l, config: auditConfig(), rpcUrl: anvil.rpcUrl, contract }),
  });
  const without = buildDashboard(deps);
  try {
    const url = `/api/audit/verify?from=${iso(0)}&to=${iso(2)}`;
    const ok = await app.inject({ url, headers: auth(TOKENS.auditor) });
    assert.equal(ok.statusCode, 200, ok.body);
    const body = ok.json();
    assert.equal(body.pass, true);
    assert.equal(body.intervals.length, 2);
    assert.deepEqual(
      body.intervals[0].checks.map((c: { check: string }) => c.check),
      ['readings', 'energy', 'clearing', 'credits', 'statements'],
    );
    assert.equal((await app.inject({ url, headers: auth(TOKENS.operator) })).statusCode, 200);
    assert.equal((await app.inject({ url, headers: auth(TOKENS.h01) })).statusCode, 403);
    assert.equal((await app.inject({ url })).statusCode, 401);
    const bad = await app.inject({
      url: `/api/audit/verify?from=${iso(2)}&to=${iso(0)}`,
      headers: auth(TOKENS.auditor),
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /AUDIT_INPUT/);
    assert.equal((await without.inject({ url, headers: auth(TOKENS.auditor) })).statusCode, 503);
  } finally {
    await app.close();
    await without.close();
    l.close();
  }
});
