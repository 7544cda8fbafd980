import { hashTypedData, recoverAddress, type Hex } from 'viem';
import { READING_DOMAIN, READING_TYPES, readingMessage } from '../../core/reading-typed-data.js';
import type { EvidenceReading } from './evidence.js';

/**
 * EIP-712 recovery of a stored reading's signer (core/reading-typed-data.ts),
 * lower-case. A boundary reading is used by two consecutive intervals, so
 * results are cached by (meter, ts, values, signature) for the run.
 */
export class SignerCache {
  readonly #cache = new Map<string, string | null>();

  async signer(r: EvidenceReading): Promise<string | null> {
    if (r.signature === null) return null;
    const key = `${r.meterId}\u0000${r.ts}\u0000${r.powerW}\u0000${r.importWh}\u0000${r.exportWh}\u0000${r.voltageV}\u0000${r.frequencyHz}\u0000${r.quality}\u0000${r.signature}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    let out: string | null;
    try {
      const hash = hashTypedData({
        domain: READING_DOMAIN,
        types: READING_TYPES,
        primaryType: 'Reading',
        message: readingMessage({ ...r, ts: new Date(r.ts).toISOString() }),
      });
      out = (await recoverAddress({ hash, signature: r.signature as Hex })).toLowerCase();
    } catch {
      out = null; // malformed signature or values the typed data cannot carry
    }
    if (this.#cache.size > 200_000) this.#cache.clear();
    this.#cache.set(key, out);
    return out;
  }
}
