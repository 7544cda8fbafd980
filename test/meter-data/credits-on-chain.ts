import type { Address } from 'viem';
import { Submitter } from '../../settlement/submitter.js';
import type { Ledger } from '../../ledger/ledger.js';
import { abi, clientsFor } from '../contracts/chain.js';
import { SETTLER_KEY } from '../audit/fixture.js';

/** Commits and mints every settled interval through the real Submitter until final (one confirmation). */
export async function mintSettled(ledger: Ledger, rpcUrl: string, contract: Address): Promise<void> {
  await new Submitter({
    ledger,
    rpcUrl,
    chainId: 31337,
    privateKey: SETTLER_KEY,
    contract,
    pollMs: 5,
    confirmations: 1,
  }).drain(120_000);
}

/**
 * Credits (Wh) each account holds for each interval, read from the chain: balanceOf(account, interval start in unix
 * seconds).
 */
export async function creditsOnChain(
  rpcUrl: string,
  contract: Address,
  accounts: readonly string[],
  starts: readonly number[],
): Promise<Record<string, number[]>> {
  const pub = clientsFor(rpcUrl).public;
  const out: Record<string, number[]> = {};
  for (const a of accounts) {
    out[a] = [];
    for (const s of starts) {
      const b = (await pub.readContract({
        address: contract,
        abi,
        functionName: 'balanceOf',
        args: [a as Address, BigInt(s / 1000)],
      })) as bigint;
      out[a].push(Number(b));
    }
  }
  return out;
}
