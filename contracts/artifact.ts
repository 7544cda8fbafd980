import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Abi } from 'viem';
import { ARTIFACTS_DIR, type ContractArtifact, type EvmTarget } from './compile.js';

/** Loads a committed artifact (contracts/artifacts/<name>.json); no compile at run time. */
export function loadArtifact(name = 'EnergyCredits'): ContractArtifact & { abi: Abi } {
  return JSON.parse(readFileSync(join(ARTIFACTS_DIR, `${name}.json`), 'utf8')) as ContractArtifact & { abi: Abi };
}

export type { EvmTarget };
