import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  createPublicClient,
  createWalletClient,
  getAddress,
  http,
  isAddress,
  keccak256,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { MicrogridError } from '../../core/errors.js';
import { deployEnergyCredits } from '../../contracts/deploy.js';
import { loadArtifact, type EvmTarget } from '../../contracts/artifact.js';
import { chainSettings } from './chains.js';

export interface DeployOrLoadParameters {
  rpcUrl: string;
  chainId: number;
  privateKey: Hex;
  dataDir: string;
  /** Defaults to the chain's setting (london on public chains). */
  evm?: EvmTarget;
  /** An address from the config: used as is (checked to hold code), never deployed over. */
  contract?: Address;
}

export interface Deployment {
  chainId: number;
  address: Address;
  evm: EvmTarget;
  txHash: Hex | null;
  blockNumber: number | null;
  /** keccak of the artifact's bytecode, to notice a contract change. */
  bytecode: string;
  deployedAt: string;
}

export function deploymentFile(dataDir: string, chainId: number): string {
  return join(dataDir, 'chain', `deployment-${chainId}.json`);
}

/**
 * The EnergyCredits contract of this installation: the configured address, or
 * the one remembered in <dataDir>/chain/deployment-<chainId>.json, or a new
 * deployment (the settlement key becomes admin, pauser and settler), which is
 * then remembered. A remembered address without code (a fresh embedded
 * chain) is deployed again.
 */
export async function deployOrLoad(
  p: DeployOrLoadParameters,
): Promise<{ address: Address; deployed: boolean; deployment: Deployment | null }> {
  const settings = chainSettings(p.chainId);
  const client = createPublicClient({
    chain: settings.chain,
    transport: http(p.rpcUrl, { retryCount: 1 }),
  }) as PublicClient;
  const actual = await client.getChainId().catch((cause: unknown) => {
    throw new MicrogridError('CHAIN_UNAVAILABLE', 'the chain does not answer', {
      field: 'chain.rpcUrl',
      value: p.rpcUrl,
      expected: 'a reachable EVM JSON-RPC endpoint',
      cause,
    });
  });
  if (actual !== p.chainId)
    throw new MicrogridError('CHAIN_CONFIG', 'the RPC serves another chain', {
      field: 'chain.chainId',
      value: p.chainId,
      expected: `${actual}, the id of the chain at ${p.rpcUrl}`,
    });
  const hasCode = async (a: Address) => ((await client.getCode({ address: a })) ?? '0x').length > 2;
  if (p.contract) {
    if (!isAddress(p.contract))
      throw new MicrogridError('CHAIN_CONFIG', 'not an address', {
        field: 'chain.contract',
        value: p.contract,
        expected: 'a 0x-prefixed 20-byte EVM address',
      });
    if (!(await hasCode(p.contract)))
      throw new MicrogridError('CHAIN_CONFIG', 'no contract at this address', {
        field: 'chain.contract',
        value: p.contract,
        expected: `an EnergyCredits contract deployed on chain ${p.chainId}`,
      });
    return { address: getAddress(p.contract), deployed: false, deployment: null };
  }
  const file = deploymentFile(p.dataDir, p.chainId);
  if (existsSync(file)) {
    const d = JSON.parse(readFileSync(file, 'utf8')) as Deployment;
    if (d.chainId === p.chainId && isAddress(d.address) && (await hasCode(d.address)))
      return { address: d.address, deployed: false, deployment: d };
  }
  const wallet = createWalletClient({
    chain: settings.chain,
    transport: http(p.rpcUrl),
    account: privateKeyToAccount(p.privateKey),
  });
  const evm = p.evm ?? settings.evm;
  const r = await deployEnergyCredits({
    wallet,
    publicClient: client,
    admin: wallet.account.address,
    settler: wallet.account.address,
    evm,
  });
  const d: Deployment = {
    chainId: p.chainId,
    address: r.address,
    evm,
    txHash: r.txHash,
    blockNumber: Number(r.blockNumber),
    bytecode: keccak256(loadArtifact('EnergyCredits').bytecode[evm]),
    deployedAt: new Date().toISOString(),
  };
  mkdirSync(dirname(file), { recursive: true });
  // write then rename: a crash never leaves half a file
  writeFileSync(`${file}.tmp`, JSON.stringify(d, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  return { address: r.address, deployed: true, deployment: d };
}
