import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { MicrogridError } from '../../core/errors.js';

export const GATEWAY_KEY_FILE = 'gateway.key';

/**
 * The gateway's signing key: `<dataDir>/gateway.key`, created on first start
 * with mode 0600 (written with that mode, so it is never readable by others,
 * not even for a moment). A key file readable by group or others is refused.
 */
export function loadGatewayKey(dataDir: string): PrivateKeyAccount {
  const file = join(dataDir, GATEWAY_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const key = generatePrivateKey();
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return privateKeyToAccount(key);
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new MicrogridError('CONFIG_INVALID', 'gateway key file is readable by others', {
      field: file,
      value: `0${mode.toString(8)}`,
      expected: 'mode 0600 (chmod 600 the file)',
    });
  }
  const key = readFileSync(file, 'utf8').trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new MicrogridError('CONFIG_INVALID', 'gateway key file is not a private key', {
      field: file,
      value: '(hidden)',
      expected: 'a 0x-prefixed 32-byte hex private key',
    });
  return privateKeyToAccount(key as `0x${string}`);
}
