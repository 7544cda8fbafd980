import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../core/config/schema.js';
import { resolveSecret } from '../core/config/secrets.js';
import { MicrogridError } from '../core/errors.js';

export type Role = 'operator' | 'household' | 'auditor';

/** Who is asking. `null` (no token) is the public, aggregate-only view. */
export interface Principal {
  role: Role;
  /** The household's participant id; null for operator and auditor. */
  participant: string | null;
  /** Index into auth.tokens: a rate-limit key that is not the secret. */
  key: string;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * The bearer tokens of `auth.tokens`, resolved from their SecretRefs once at
 * start. Lookups hash the candidate and compare it with every known hash in
 * constant time, without stopping at the first match, so timing reveals
 * neither a token nor how many there are.
 */
export class TokenTable {
  readonly #entries: { hash: Buffer; principal: Principal }[];

  constructor(config: Config, env: NodeJS.ProcessEnv = process.env) {
    const participants = new Set(config.participants.map((p) => p.id));
    this.#entries = config.auth.tokens.map((t, i) => {
      const field = `auth.tokens[${i}]`;
      if (t.role === 'household' && (t.participant === undefined || !participants.has(t.participant))) {
        throw new MicrogridError('CONFIG_INVALID', 'a household token must name one of the configured participants', {
          field: `${field}.participant`,
          value: t.participant,
          expected: `one of ${[...participants].join(', ') || '(no participants configured)'}`,
        });
      }
      const secret = resolveSecret(t.token, `${field}.token`, env);
      if (secret.length < 16) {
        throw new MicrogridError('CONFIG_INVALID', 'a bearer token must be at least 16 characters', {
          field: `${field}.token`,
          value: '(hidden)',
          expected: 'a random secret of 16 or more characters',
        });
      }
      return {
        hash: digest(secret),
        principal: {
          role: t.role,
          participant: t.role === 'household' ? (t.participant ?? null) : null,
          key: `token:${i}`,
        },
      };
    });
  }

  get size(): number {
    return this.#entries.length;
  }

  lookup(token: string): Principal | undefined {
    const h = digest(token);
    let found: Principal | undefined;
    for (const e of this.#entries) if (timingSafeEqual(h, e.hash) && !found) found = e.principal;
    return found;
  }
}

/**
 * One-use stream tickets: browsers cannot set an Authorization header on a
 * WebSocket, and a bearer token in a URL ends up in logs. The page trades its
 * token for a ticket (POST /api/stream/ticket) and opens the stream with it.
 */
export class Tickets {
  readonly #map = new Map<string, { principal: Principal; expires: number }>();
  readonly #ttlMs: number;

  constructor(ttlMs = 60_000) {
    this.#ttlMs = ttlMs;
  }

  issue(p: Principal, now = Date.now()): string {
    for (const [k, v] of this.#map) if (v.expires < now) this.#map.delete(k);
    const t = randomBytes(24).toString('base64url');
    this.#map.set(t, { principal: p, expires: now + this.#ttlMs });
    return t;
  }

  redeem(t: string, now = Date.now()): Principal | undefined {
    const e = this.#map.get(t);
    this.#map.delete(t);
    return e && e.expires >= now ? e.principal : undefined;
  }
}

/** Parses `Authorization: Bearer <token>`. Undefined when absent; throws on a malformed or unknown token. */
export function principalFromHeader(header: string | undefined, tokens: TokenTable): Principal | undefined {
  if (header === undefined || header === '') return undefined;
  const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
  const p = m ? tokens.lookup(m[1]!) : undefined;
  if (!p) {
    throw new MicrogridError('UNAUTHORIZED', 'the bearer token is not valid', {
      field: 'authorization',
      expected: 'Authorization: Bearer <a token from auth.tokens>',
    });
  }
  return p;
}

export function requireAuth(p: Principal | null): Principal {
  if (!p)
    throw new MicrogridError('UNAUTHORIZED', 'this needs a bearer token', {
      field: 'authorization',
      expected: 'Authorization: Bearer <token>',
    });
  return p;
}

export function requireRole(p: Principal | null, ...roles: Role[]): Principal {
  const q = requireAuth(p);
  if (!roles.includes(q.role))
    throw new MicrogridError('FORBIDDEN', `the ${q.role} role may not do this`, {
      field: 'role',
      value: q.role,
      expected: `one of ${roles.join(', ')}`,
    });
  return q;
}

/**
 * The participant a request may act on: a household only its own (asking for
 * another is FORBIDDEN), operator/auditor any (undefined = all).
 */
export function scopeParticipant(p: Principal, asked: string | undefined, field = 'participant'): string | undefined {
  if (p.role !== 'household') return asked;
  if (asked !== undefined && asked !== p.participant) {
    throw new MicrogridError('FORBIDDEN', 'a household may only see and change its own data', {
      field,
      value: asked,
      expected: JSON.stringify(p.participant),
    });
  }
  return p.participant ?? undefined;
}
