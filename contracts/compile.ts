import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Compiles the contracts with solc-js from node_modules. The compiler is the
 * one bundled in the `solc` package (soljson.js): nothing is fetched, and
 * `solc.loadRemoteVersion` is never called. OpenZeppelin sources come from
 * node_modules/@openzeppelin/contracts (pinned to 5.0.2: 5.1+ uses mcopy, which
 * London chains such as Energy Web Chain do not have).
 */

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

export const CONTRACT_SOURCES = ['EnergyCredits.sol'] as const;
/** `default` = the compiler's default EVM version; `london` = Energy Web Chain and Volta. */
export const EVM_TARGETS = ['default', 'london'] as const;
export type EvmTarget = (typeof EVM_TARGETS)[number];

export interface ContractArtifact {
  contractName: string;
  sourceName: string;
  compiler: { name: 'solc-js'; version: string; optimizer: { enabled: true; runs: number } };
  openzeppelin: string;
  abi: unknown[];
  /** Creation bytecode per EVM target, 0x-prefixed. */
  bytecode: Record<EvmTarget, `0x${string}`>;
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
}

interface Solc {
  version(): string;
  compile(input: string, callbacks: { import: (path: string) => { contents: string } | { error: string } }): string;
}

const RUNS = 200;

function findImport(path: string): { contents: string } | { error: string } {
  try {
    if (path.startsWith('@openzeppelin/contracts/')) return { contents: readFileSync(require.resolve(path), 'utf8') };
    return { error: `import ${path} is not allowed: only @openzeppelin/contracts and contracts/src` };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function compileFor(solc: Solc, evm: EvmTarget): SolcOutput {
  const sources = Object.fromEntries(
    CONTRACT_SOURCES.map((f) => [f, { content: readFileSync(join(here, 'src', f), 'utf8') }]),
  );
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: RUNS },
      ...(evm === 'default' ? {} : { evmVersion: evm }),
      // no metadata hash: the bytecode then depends only on the sources, so a fresh compile equals the committed
      // artifact
      metadata: { bytecodeHash: 'none', appendCBOR: false },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(`solc (${evm}) failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  return out;
}

/** Compiles every contract for every EVM target; returns artifacts by contract name. */
export function compileContracts(): Record<string, ContractArtifact> {
  const solc = require('solc') as Solc;
  const oz = (require('@openzeppelin/contracts/package.json') as { version: string }).version;
  const outputs = Object.fromEntries(EVM_TARGETS.map((t) => [t, compileFor(solc, t)])) as Record<EvmTarget, SolcOutput>;
  const result: Record<string, ContractArtifact> = {};
  for (const sourceName of CONTRACT_SOURCES) {
    const contractName = sourceName.replace(/\.sol$/, '');
    const pick = (t: EvmTarget) => {
      const c = outputs[t].contracts[sourceName]?.[contractName];
      if (!c) throw new Error(`solc produced no ${contractName} for ${t}`);
      return c;
    };
    result[contractName] = {
      contractName,
      sourceName: `contracts/src/${sourceName}`,
      compiler: { name: 'solc-js', version: solc.version(), optimizer: { enabled: true, runs: RUNS } },
      openzeppelin: oz,
      abi: pick('default').abi,
      bytecode: {
        default: `0x${pick('default').evm.bytecode.object}`,
        london: `0x${pick('london').evm.bytecode.object}`,
      },
    };
  }
  return result;
}

export const ARTIFACTS_DIR = resolve(here, 'artifacts');
