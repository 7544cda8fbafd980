import type { Abi, Address, PublicClient } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import type { Ledger } from '../ledger/ledger.js';
import type { JournalWrites } from './journal-writes.js';

/**
 * What the submitter's parts share: the ledger, the chain they talk to, the key they sign with, the clocks, the
 * journal.
 */
export interface SubmitterContext {
  readonly ledger: Ledger;
  readonly client: PublicClient;
  readonly account: PrivateKeyAccount;
  /** EnergyCredits' ABI: encodes the calls and decodes their reverts. */
  readonly abi: Abi;
  readonly chainId: number;
  readonly contract: Address;
  readonly rpcUrl: string;
  /** Wall time: journal rows and the stuck-transaction timer. */
  readonly now: () => number;
  /** The market clock, for the interval transitions recorded (committed, final). */
  readonly marketNow: () => number;
  readonly journal: JournalWrites;
}
