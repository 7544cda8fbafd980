import type { Address, Hex } from 'viem';
import type { Config } from '../../core/config/schema.js';
import { resolveSecret } from '../../core/config/secrets.js';
import { MicrogridError } from '../../core/errors.js';
import { ANVIL_KEYS } from './accounts.js';
import { chainSettings } from './chains.js';
import { startEmbeddedChain } from './embedded.js';
import { deployOrLoad } from './deploy-or-load.js';

export interface ChainConnection {
  rpcUrl: string;
  chainId: number;
  privateKey: Hex;
  contract: Address;
  confirmations: number;
  embedded: boolean;
  /** The embedded chain only: writes its state durably (the submitter calls it before anything becomes final). */
  persist?: () => Promise<void>;
  stop(): Promise<void>;
}

/**
 * The chain the app settles on, from the config's `chain` section:
 * - no rpcUrl: the embedded anvil (31337, `chain.hardfork` if set), the
 *   well-known anvil key 0 as settler — a development chain only;
 * - rpcUrl: that chain; `chain.chainId` (one of the shipped chains) and
 *   `chain.privateKey` (from the environment or a file) are required.
 * Then the contract: `chain.contract`, or deployed once and remembered in the data folder.
 */
export async function connectChain(
  config: Pick<Config, 'chain'>,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChainConnection> {
  const c = config.chain;
  if (!c.rpcUrl) {
    const chain = await startEmbeddedChain({ dataDir, ...(c.hardfork ? { hardfork: c.hardfork } : {}) });
    try {
      const privateKey = ANVIL_KEYS[0] as Hex;
      const { address, deployed } = await deployOrLoad({
        rpcUrl: chain.rpcUrl,
        chainId: 31337,
        privateKey,
        dataDir,
        evm: c.hardfork === 'london' ? 'london' : 'default',
      });
      // the remembered address must hold code after anvil's next restart too
      if (deployed) await chain.persist();
      return {
        rpcUrl: chain.rpcUrl,
        chainId: 31337,
        privateKey,
        contract: address,
        confirmations: c.confirmations ?? 1,
        embedded: true,
        persist: chain.persist,
        stop: chain.stop,
      };
    } catch (err) {
      await chain.stop();
      throw err;
    }
  }
  if (c.chainId === undefined)
    throw new MicrogridError('CHAIN_CONFIG', 'missing chain id', {
      field: 'chain.chainId',
      value: undefined,
      expected: 'the id of the chain at chain.rpcUrl: 246, 73799, 100, 10200 or 31337',
    });
  const settings = chainSettings(c.chainId);
  if (!c.privateKey)
    throw new MicrogridError('CHAIN_CONFIG', 'missing settlement key', {
      field: 'chain.privateKey',
      value: undefined,
      expected: '{ env: MGX_SETTLER_KEY } or { file: /path } holding the settler key',
    });
  const key = resolveSecret(c.privateKey, 'chain.privateKey', env);
  const privateKey = (key.startsWith('0x') ? key : `0x${key}`) as Hex;
  if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey))
    throw new MicrogridError('CHAIN_CONFIG', 'not a private key', {
      field: 'chain.privateKey',
      value: '(hidden)',
      expected: '32 bytes in hex',
    });
  const { address } = await deployOrLoad({
    rpcUrl: c.rpcUrl,
    chainId: c.chainId,
    privateKey,
    dataDir,
    ...(c.contract ? { contract: c.contract as Address } : {}),
  });
  return {
    rpcUrl: c.rpcUrl,
    chainId: c.chainId,
    privateKey,
    contract: address,
    confirmations: c.confirmations ?? settings.confirmations,
    embedded: false,
    stop: async () => {},
  };
}
