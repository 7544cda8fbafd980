import { it } from 'node:test';
import assert from 'node:assert/strict';
import { compileContracts } from '../../contracts/compile.js';
import { loadArtifact } from '../../contracts/artifact.js';

it('the committed artifacts equal a fresh solc-js compile (run npm run build:contracts after editing contracts/src)', () => {
  const fresh = compileContracts();
  const committed = loadArtifact('EnergyCredits');
  const built = fresh.EnergyCredits;
  assert.ok(built);
  assert.equal(committed.compiler.version, built.compiler.version);
  assert.equal(committed.openzeppelin, '5.0.2', 'OpenZeppelin 5.1+ needs Cancun (mcopy); Energy Web Chain is London');
  assert.deepEqual(committed.abi, built.abi);
  assert.equal(committed.bytecode.default, built.bytecode.default);
  assert.equal(committed.bytecode.london, built.bytecode.london);
});
