import { recoverTypedDataAddress } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import type { ReadingEvent } from '../../core/events.js';
import { READING_DOMAIN, READING_TYPES, readingMessage } from './typed-data.js';

export type SignedReading = ReadingEvent & { gateway: string; signature: string };

/** Signs a reading with the gateway key: EIP-712, domain microgrid-exchange v1, type Reading. */
export async function signReading(account: PrivateKeyAccount, r: ReadingEvent): Promise<SignedReading> {
  const signature = await account.signTypedData({ domain: READING_DOMAIN, types: READING_TYPES, primaryType: 'Reading', message: readingMessage(r) });
  return { ...r, gateway: account.address, signature };
}

/** The address that signed `r` (throws on a malformed signature). */
export async function recoverReadingSigner(r: ReadingEvent & { signature: string }): Promise<string> {
  return recoverTypedDataAddress({ domain: READING_DOMAIN, types: READING_TYPES, primaryType: 'Reading', message: readingMessage(r), signature: r.signature as `0x${string}` });
}
