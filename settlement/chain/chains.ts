import { defineChain, type Chain } from 'viem';
import { MicrogridError } from '../../core/errors.js';
import type { EvmTarget } from '../../contracts/artifact.js';

/**
 * The chains the project ships settings for. `evm` picks the compiled
 * bytecode: London for every public chain (Energy Web Chain and Volta run a
 * London EVM; London bytecode also runs on Gnosis and Chiado), the compiler
 * default only on the embedded anvil. `confirmations` is the depth at which a
 * settlement transaction counts as final; the config may override it.
 * RPC URLs are never defaulted: a public chain is used only when configured.
 */

export interface ChainSettings {
  chain: Chain;
  evm: EvmTarget;
  confirmations: number;
  /** The embedded development chain (anvil). */
  local: boolean;
}

const native = (symbol: string, name: string) => ({ name, symbol, decimals: 18 });
const noRpc = { default: { http: [] as string[] } };

export const CHAINS: Readonly<Record<number, ChainSettings>> = {
  31337: {
    chain: defineChain({ id: 31337, name: 'Anvil', nativeCurrency: native('ETH', 'Ether'), rpcUrls: noRpc }),
    evm: 'default',
    confirmations: 1,
    local: true,
  },
  246: {
    chain: defineChain({
      id: 246,
      name: 'Energy Web Chain',
      nativeCurrency: native('EWT', 'Energy Web Token'),
      rpcUrls: noRpc,
    }),
    evm: 'london',
    confirmations: 12,
    local: false,
  },
  73799: {
    chain: defineChain({
      id: 73799,
      name: 'Energy Web Volta',
      nativeCurrency: native('VT', 'Volta Token'),
      rpcUrls: noRpc,
      testnet: true,
    }),
    evm: 'london',
    confirmations: 12,
    local: false,
  },
  100: {
    chain: defineChain({ id: 100, name: 'Gnosis', nativeCurrency: native('xDAI', 'xDAI'), rpcUrls: noRpc }),
    evm: 'london',
    confirmations: 20,
    local: false,
  },
  10200: {
    chain: defineChain({
      id: 10200,
      name: 'Gnosis Chiado',
      nativeCurrency: native('xDAI', 'Chiado xDAI'),
      rpcUrls: noRpc,
      testnet: true,
    }),
    evm: 'london',
    confirmations: 20,
    local: false,
  },
};

export function chainSettings(chainId: number, field = 'chain.chainId'): ChainSettings {
  const c = CHAINS[chainId];
  if (!c)
    throw new MicrogridError('CHAIN_CONFIG', 'unknown chain', {
      field,
      value: chainId,
      expected: `one of ${Object.keys(CHAINS).join(', ')}`,
    });
  return c;
}
