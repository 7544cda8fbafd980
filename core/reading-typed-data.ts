import { recoverTypedDataAddress } from 'viem';
import type { ReadingEvent } from './events.js';

/**
 * The EIP-712 typed data a gateway signs for each reading. Settlement and
 * audit verify exactly this (docs/meter-bridge.md, "Readings, validation, signing"): any change here
 * is a new `version` of the domain.
 *
 * EIP-712 has no null, so `present` is a bit mask of the values the device
 * reported (1 powerW, 2 importWh, 4 exportWh, 8 voltage, 16 frequency) and an
 * absent value is signed as 0. Voltage and frequency are signed as integer
 * millivolts and millihertz, so the signed value is exact.
 */
export const READING_DOMAIN = { name: 'microgrid-exchange', version: '1' } as const;

export const READING_TYPES = {
  Reading: [
    { name: 'meterId', type: 'string' },
    { name: 'ts', type: 'uint64' },
    { name: 'powerW', type: 'int256' },
    { name: 'importWh', type: 'uint256' },
    { name: 'exportWh', type: 'uint256' },
    { name: 'voltageMv', type: 'uint256' },
    { name: 'frequencyMhz', type: 'uint256' },
    { name: 'present', type: 'uint8' },
    { name: 'quality', type: 'string' },
  ],
} as const;

export interface ReadingMessage {
  meterId: string;
  ts: bigint;
  powerW: bigint;
  importWh: bigint;
  exportWh: bigint;
  voltageMv: bigint;
  frequencyMhz: bigint;
  present: number;
  quality: string;
}

/** The signed message of a reading event (the event's values, integers as the signature sees them). */
export function readingMessage(
  r: Pick<ReadingEvent, 'meterId' | 'ts' | 'powerW' | 'importWh' | 'exportWh' | 'voltageV' | 'frequencyHz' | 'quality'>,
): ReadingMessage {
  const ms = Date.parse(r.ts);
  if (!Number.isFinite(ms)) throw new RangeError(`reading ts is not an ISO time: ${r.ts}`);
  let present = 0;
  const bit = (v: number | null, b: number): void => {
    if (v !== null) present |= b;
  };
  bit(r.powerW, 1);
  bit(r.importWh, 2);
  bit(r.exportWh, 4);
  bit(r.voltageV, 8);
  bit(r.frequencyHz, 16);
  const nonNeg = (v: number | null, name: string): bigint => {
    if (v === null) return 0n;
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`reading ${name} must be a non-negative integer, got ${v}`);
    return BigInt(v);
  };
  return {
    meterId: r.meterId,
    ts: BigInt(ms),
    powerW: r.powerW === null ? 0n : BigInt(Math.round(r.powerW)),
    importWh: nonNeg(r.importWh, 'importWh'),
    exportWh: nonNeg(r.exportWh, 'exportWh'),
    voltageMv: r.voltageV === null ? 0n : BigInt(Math.max(0, Math.round(r.voltageV * 1000))),
    frequencyMhz: r.frequencyHz === null ? 0n : BigInt(Math.max(0, Math.round(r.frequencyHz * 1000))),
    present,
    quality: r.quality,
  };
}

/**
 * The address that signed a reading (throws on a malformed signature). Settlement, audit and the HTTP route use this.
 */
export async function recoverReadingSigner(r: ReadingEvent & { signature: string }): Promise<string> {
  return recoverTypedDataAddress({
    domain: READING_DOMAIN,
    types: READING_TYPES,
    primaryType: 'Reading',
    message: readingMessage(r),
    signature: r.signature as `0x${string}`,
  });
}
