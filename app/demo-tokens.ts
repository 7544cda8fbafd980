import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config/schema.js';

export interface DemoToken {
  role: 'operator' | 'auditor' | 'household';
  participant?: string;
  file: string;
  token: string;
}

/**
 * The demo's sign-in tokens: an operator, an auditor and the first
 * household, one file each under `<dataDir>/tokens/` (mode 0600), created
 * once and reused on restart so a bookmarked sign-in link keeps working.
 * Only for a demo without tokens of its own: a configured deployment names
 * its tokens in `auth.tokens` and gets none of these.
 */
export function ensureDemoTokens(dataDir: string, config: Config): DemoToken[] {
  const dir = join(dataDir, 'tokens');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const household = config.participants[0]?.id;
  const wanted: Omit<DemoToken, 'file' | 'token'>[] = [
    { role: 'operator' },
    { role: 'auditor' },
    ...(household ? [{ role: 'household' as const, participant: household }] : []),
  ];
  return wanted.map((w) => {
    const file = join(dir, w.participant ? `household-${w.participant}.token` : `${w.role}.token`);
    if (!existsSync(file))
      writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    // A file copied in with a looser mode is tightened: these tokens sign in.
    chmodSync(file, 0o600);
    return { ...w, file, token: readFileSync(file, 'utf8').trim() };
  });
}

/** Does this configuration get demo tokens? The demo, when it names none itself. */
export function wantsDemoTokens(config: Config): boolean {
  return config.demo.enabled && config.auth.tokens.length === 0;
}

/**
 * The configuration with the demo tokens as `auth.tokens` (each a `{ file }` secret, as a deployment would write it).
 */
export function withDemoTokens(config: Config, tokens: DemoToken[]): Config {
  return {
    ...config,
    auth: {
      ...config.auth,
      tokens: tokens.map((t) => ({
        token: { file: t.file },
        role: t.role,
        ...(t.participant ? { participant: t.participant } : {}),
      })),
    },
  };
}

/**
 * `http://127.0.0.1:8080/#token=…`: the page takes the token from the fragment, which never reaches the server or its
 * logs.
 */
export function signInLink(url: string, token: string): string {
  return `${url}/#token=${encodeURIComponent(token)}`;
}
