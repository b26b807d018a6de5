/**
 * Registry bearer tokens in the Docker token format (JWT, RS256, `kid` as a
 * libtrust key id, `aud` a single string), which distribution and Harbor's
 * registry accept, and their verification for our own routes.
 */
import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { AccessEntry } from './access.js';
import type { TokenSigningKey } from './signing-key.js';

export interface TokenSettings {
  /** `service` of the challenge and `aud` of tokens. */
  service: string;
  /** `iss` of tokens. */
  issuer: string;
  /** Lifetime of a token in seconds. */
  ttlSeconds: number;
}

export const DEFAULT_TOKEN_SETTINGS: TokenSettings = {
  service: 'chartprov-registry',
  issuer: 'chartprov-token-issuer',
  ttlSeconds: 1800,
};

export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: string;
}

export interface VerifiedToken {
  subject: string;
  access: AccessEntry[];
  expiresAt: number;
}

// distribution allows the same clock skew.
const LEEWAY_SECONDS = 60;
const CACHE_MAX = 4096;

export class TokenService {
  // Verified tokens by their text: an RS256 check per request would cost
  // more than serving a small manifest.
  private readonly cache = new Map<string, VerifiedToken>();

  constructor(
    private readonly key: TokenSigningKey,
    readonly settings: TokenSettings = DEFAULT_TOKEN_SETTINGS,
  ) {}

  async issue(subject: string, access: AccessEntry[]): Promise<IssuedToken> {
    const iat = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.key.keyId })
      .setIssuer(this.settings.issuer)
      .setSubject(subject)
      .setAudience(this.settings.service)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + this.settings.ttlSeconds)
      .setJti(randomUUID())
      .sign(this.key.privateKey);
    return { token, expiresIn: this.settings.ttlSeconds, issuedAt: new Date(iat * 1000).toISOString() };
  }

  /** The token's subject and access, or undefined for any token we did not issue or that expired. */
  async verify(token: string): Promise<VerifiedToken | undefined> {
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.expiresAt + LEEWAY_SECONDS > Date.now() / 1000) return hit;
      this.cache.delete(token);
      return undefined;
    }
    try {
      const { payload } = await jwtVerify(token, this.key.publicKey, {
        algorithms: ['RS256'],
        issuer: this.settings.issuer,
        audience: this.settings.service,
        clockTolerance: LEEWAY_SECONDS,
        requiredClaims: ['exp', 'sub'],
      });
      const verified: VerifiedToken = {
        subject: typeof payload.sub === 'string' ? payload.sub : '',
        access: parseAccess(payload['access']),
        expiresAt: payload.exp!,
      };
      if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(token, verified);
      return verified;
    } catch {
      return undefined;
    }
  }
}

function parseAccess(value: unknown): AccessEntry[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((e) => {
    const entry = e as Partial<AccessEntry>;
    if (typeof entry?.type !== 'string' || typeof entry.name !== 'string' || !Array.isArray(entry.actions)) return [];
    return [{ type: entry.type, name: entry.name, actions: entry.actions.filter((a): a is string => typeof a === 'string') }];
  });
}
