import { createPublicClient, createTestClient, createWalletClient, http, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { startAnvil, type AnvilInstance } from '../../settlement/chain/anvil.js';
import { ANVIL_KEYS } from '../../settlement/chain/accounts.js';
import { deployEnergyCredits } from '../../contracts/deploy.js';
import { loadArtifact } from '../../contracts/artifact.js';

/** Starts anvil (the caller stops it in its own `after`), deploys EnergyCredits with account 0 as admin and settler. */
export async function anvilWithCredits(
  hardfork?: string,
): Promise<{ anvil: AnvilInstance; address: Address; clients: ReturnType<typeof clientsFor> }> {
  const anvil = await startAnvil(hardfork ? { hardfork } : {});
  const clients = clientsFor(anvil.rpcUrl);
  const admin = clients.wallet(0);
  const { address } = await deployEnergyCredits({
    wallet: admin,
    publicClient: clients.public,
    admin: admin.account.address,
    settler: admin.account.address,
    evm: hardfork === 'london' ? 'london' : 'default',
  });
  return { anvil, address, clients };
}

export function clientsFor(rpcUrl: string) {
  const transport = http(rpcUrl, { retryCount: 0 });
  return {
    public: createPublicClient({ chain: foundry, transport, cacheTime: 0 }),
    test: createTestClient({ chain: foundry, mode: 'anvil', transport }),
    wallet: (i: number) =>
      createWalletClient({ chain: foundry, transport, account: privateKeyToAccount(ANVIL_KEYS[i] as Hex) }),
  };
}

export const abi = loadArtifact('EnergyCredits').abi;
