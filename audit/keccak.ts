import jsSha3 from 'js-sha3';

/**
 * keccak256 of bytes, for the audit's hot paths (two EIP-712 hashes per
 * reading, the Merkle nodes: over a million hashes a month). js-sha3 against
 * the noble implementation viem's keccak256 uses, `npx tsx audit/bench-crypto.ts`
 * (2 cores, load average 11–13): 31.7 µs against 101.8 µs for a 320-byte
 * reading struct, 8.8 against 27.1 µs for a 64-byte Merkle pair; a 200-leaf
 * root 2.5 ms against 6.6 ms. node:crypto's OpenSSL 3.0 has SHA3 but not
 * Keccak (different padding). A test checks it equals viem's keccak256.
 */
export function keccakBytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(jsSha3.keccak256.arrayBuffer(data));
}

/** keccak256 of a string's UTF-8 bytes, as 0x-hex (= viem keccak256(stringToHex(s))). */
export function keccakHexOfString(s: string): `0x${string}` {
  return `0x${Buffer.from(keccakBytes(Buffer.from(s, 'utf8'))).toString('hex')}`;
}
