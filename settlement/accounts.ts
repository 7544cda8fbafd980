import { getAddress, keccak256, stringToHex, type Address } from 'viem';

/**
 * The EVM account that receives a participant's credits: its configured
 * `account`, or else an address derived from its id:
 * the last 20 bytes of keccak256("microgrid-exchange:participant:" + id).
 * A derived address has no known private key: credits minted to it are held
 * for the participant and count in every audit (Σ credits = Σ export), but
 * cannot be moved or retired until the participant configures an account of
 * its own (new intervals then go there). Anyone can recompute the mapping.
 */
export function participantAccount(p: { id: string; account?: string | null }): Address {
  if (p.account) return getAddress(p.account);
  return derivedAccount(p.id);
}

export function derivedAccount(participantId: string): Address {
  const h = keccak256(stringToHex(`microgrid-exchange:participant:${participantId}`));
  return getAddress(`0x${h.slice(-40)}`);
}
