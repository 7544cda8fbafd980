import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { join } from 'node:path';
import type { Address, Hex } from 'viem';
import { openLedger, type Ledger } from '../../ledger/ledger.js';
import { getSettlementCredits } from '../../ledger/statements.js';
import { settleInterval } from '../../settlement/settle.js';
import { seedInterval } from '../../settlement/bench/scenario.js';
import { ANVIL_KEYS } from '../../settlement/chain/accounts.js';
import { toUnixSeconds } from '../../core/interval.js';
import { abi, anvilWithCredits, type clientsFor } from '../contracts/chain.js';

export const SETTLER_KEY = ANVIL_KEYS[0] as Hex;
export const CONFIG = {
  market: { feedInTariff: '0.0800', retailTariff: '0.3000' },
  microgrid: { currencyMinorUnits: 2 },
};
export const T0 = Date.UTC(2027, 0, 15, 8, 0);
export const intervalAt = (i: number) => T0 + i * 900_000;

/** A ledger with `n` settled intervals of `households` each (participants created once). */
export function settledLedger(
  dir: string,
  n: number,
  households: number,
  first = 0,
  file = 'ledger.db',
): { ledger: Ledger; path: string; starts: number[] } {
  const path = join(dir, file);
  const ledger = openLedger(path);
  const starts: number[] = [];
  for (let i = first; i < first + n; i++) {
    const start = intervalAt(i);
    seedInterval(ledger, start, { households, seed: i + 1, participantsExist: i > first });
    settleInterval(ledger, start, CONFIG);
    starts.push(start);
  }
  return { ledger, path, starts };
}

/** Settles more intervals into an existing ledger (participants exist). */
export function settleMore(ledger: Ledger, indices: number[], households: number): number[] {
  return indices.map((i) => {
    const start = intervalAt(i);
    seedInterval(ledger, start, { households, seed: i + 1, participantsExist: true });
    settleInterval(ledger, start, CONFIG);
    return start;
  });
}

/**
 * The chain, not the ledger, is the judge: every credit's balance is exactly
 * its amount, the contract's minted total equals the committed total equals
 * the metered export, and each chunk was minted by exactly one ChunkMinted event.
 */
export async function assertMintedExactlyOnce(
  clients: ReturnType<typeof clientsFor>,
  address: Address,
  ledger: Ledger,
  starts: readonly number[],
): Promise<void> {
  for (const start of starts) {
    const rec = getSettlementCredits(ledger, start)!;
    const id = BigInt(toUnixSeconds(start));
    const state = (await clients.public.readContract({
      address,
      abi,
      functionName: 'intervals',
      args: [id],
    })) as readonly [bigint, bigint, number, number];
    assert.equal(state[0], BigInt(rec.exportWh), `committed total of ${start}`);
    assert.equal(state[1], BigInt(rec.exportWh), `minted total of ${start}`);
    assert.equal(state[3], state[2], 'every chunk minted');
    const events = await clients.public.getContractEvents({
      address,
      abi,
      eventName: 'ChunkMinted',
      args: { interval: id },
      fromBlock: 0n,
    });
    assert.equal(events.length, state[2], `one ChunkMinted per chunk for ${start}`);
    const chunks = new Set(events.map((e) => (e.args as { chunk: number }).chunk));
    assert.equal(chunks.size, events.length, 'no chunk twice');
    const balances = (await clients.public.readContract({
      address,
      abi,
      functionName: 'balanceOfBatch',
      args: [rec.credits.map((c) => c.account), rec.credits.map(() => id)],
    })) as bigint[];
    rec.credits.forEach((c, i) => assert.equal(balances[i], BigInt(c.wh), `balance of ${c.account} in ${start}`));
  }
}

/** The chain a suite's tests run against: anvil with EnergyCredits deployed (account 0 admin and settler). */
export interface SuiteChain {
  address: Address;
  clients: ReturnType<typeof clientsFor>;
  rpcUrl: string;
}

/**
 * Starts anvil with EnergyCredits in the calling describe()'s before hook and
 * stops it in its after hook; `use` receives the chain once it runs (the
 * suites keep their own `address`, `clients`, `rpcUrl` variables).
 */
export function suiteChain(use: (chain: SuiteChain) => void): void {
  let stop: (() => Promise<void>) | undefined;
  before(async () => {
    const chain = await anvilWithCredits();
    stop = () => chain.anvil.stop();
    use({ address: chain.address, clients: chain.clients, rpcUrl: chain.anvil.rpcUrl });
  });
  after(() => stop?.());
}
