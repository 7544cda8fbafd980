import type { Abi, Account, Address, Chain, PublicClient, Transport, WalletClient } from 'viem';
import { loadArtifact, type EvmTarget } from './artifact.js';

export interface DeployEnergyCreditsParameters {
  wallet: WalletClient<Transport, Chain | undefined, Account>;
  publicClient: PublicClient;
  admin: Address;
  settler: Address;
  /** `london` for Energy Web Chain / Volta and any chain before Shanghai. */
  evm: EvmTarget;
  uri?: string;
}

export interface DeployEnergyCreditsReturnType {
  address: Address;
  txHash: `0x${string}`;
  blockNumber: bigint;
  abi: Abi;
}

/** Deploys EnergyCredits from the committed artifact and waits for the receipt. */
export async function deployEnergyCredits(p: DeployEnergyCreditsParameters): Promise<DeployEnergyCreditsReturnType> {
  const artifact = loadArtifact('EnergyCredits');
  const txHash = await p.wallet.deployContract({
    abi: artifact.abi,
    bytecode: artifact.bytecode[p.evm],
    args: [p.admin, p.settler, p.uri ?? 'mgx://credits/{id}'],
    account: p.wallet.account,
    chain: p.wallet.chain ?? null,
  });
  const receipt = await p.publicClient.waitForTransactionReceipt({ hash: txHash });
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new Error(`EnergyCredits deployment ${txHash} reverted`);
  return { address: receipt.contractAddress, txHash, blockNumber: receipt.blockNumber, abi: artifact.abi };
}
