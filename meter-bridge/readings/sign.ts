import type { PrivateKeyAccount } from 'viem/accounts';
import type { ReadingEvent } from '../../core/events.js';
import { READING_DOMAIN, READING_TYPES, readingMessage } from '../../core/reading-typed-data.js';

export { recoverReadingSigner } from '../../core/reading-typed-data.js';

export type SignedReading = ReadingEvent & { gateway: string; signature: string };

/**
 * Signs a reading with the gateway key: EIP-712, domain microgrid-exchange v1, type Reading
 * (core/reading-typed-data.ts).
 */
export async function signReading(account: PrivateKeyAccount, r: ReadingEvent): Promise<SignedReading> {
  const signature = await account.signTypedData({
    domain: READING_DOMAIN,
    types: READING_TYPES,
    primaryType: 'Reading',
    message: readingMessage(r),
  });
  return { ...r, gateway: account.address, signature };
}
