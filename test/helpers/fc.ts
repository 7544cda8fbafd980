import type { Parameters } from 'fast-check';

/**
 * fast-check parameters with a printed seed. Each run draws a fresh seed
 * (more cases over time) unless FC_SEED is set; the seed is printed before the
 * property runs, so any failure can be replayed with FC_SEED=<seed>.
 */
export function fcParams<T>(name: string, extra: Parameters<T> = {}): Parameters<T> {
  const seed =
    process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  console.log(`fast-check ${name}: seed=${seed} (replay with FC_SEED=${seed})`);
  return { seed, ...extra };
}
