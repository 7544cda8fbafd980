import { readFileSync } from 'node:fs';
import type { SecretRef } from './schema.js';
import { MicrogridError } from '../errors.js';

/**
 * Reads a secret named by the config (`{ env: NAME }` or `{ file: PATH }`).
 * The value is returned to the caller only; it is never stored in the config
 * object, so printing or logging the config cannot leak it. Lives in core/ so
 * the dashboard (which may not import app/) resolves its tokens the same way.
 */
export function resolveSecret(ref: SecretRef, keyPath: string, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined || v === '') {
      throw new MicrogridError('SECRET_MISSING', `environment variable ${ref.env} is not set`, {
        field: keyPath,
        value: { env: ref.env },
        expected: `the secret in the environment variable ${ref.env}`,
      });
    }
    return v.trim();
  }
  try {
    return readFileSync(ref.file, 'utf8').trim();
  } catch (cause) {
    throw new MicrogridError(
      'SECRET_MISSING',
      `cannot read the secret file (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        field: keyPath,
        value: { file: ref.file },
        expected: 'a readable file holding the secret',
        cause,
      },
    );
  }
}
