/**
 * Cross-site request forgery defences for the UI's forms: every POST must
 * come from a page of this server (Origin, else Referer, naming our own
 * origin) and carry the token of its session in a hidden field, compared
 * in constant time. The login form has no session yet: its token is an HMAC
 * of a random nonce kept in a short-lived cookie (double submit, signed with
 * a key that lives only in this process).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const CSRF_FIELD = '_csrf';

export function tokensEqual(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // timingSafeEqual needs equal lengths; the length of a random token is no secret.
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether the request says it comes from `origin` (`http(s)://host:port`).
 * Browsers send Origin with every form POST; Referer is the fallback for
 * the few that do not. A request with neither is refused.
 */
export function sameOrigin(req: IncomingMessage, origins: readonly string[]): boolean {
  const origin = header(req, 'origin');
  if (origin !== undefined) return origin !== 'null' && origins.includes(origin.toLowerCase());
  const referer = header(req, 'referer');
  if (referer === undefined) return false;
  try {
    return origins.includes(new URL(referer).origin.toLowerCase());
  } catch {
    return false;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Tokens for the login form, before there is a session. */
export class LoginCsrf {
  private readonly key = randomBytes(32);

  /** A fresh nonce for the cookie. */
  nonce(): string {
    return randomBytes(18).toString('base64url');
  }

  /** The form token that goes with `nonce`. */
  tokenFor(nonce: string): string {
    return createHmac('sha256', this.key).update(`login\0${nonce}`).digest('base64url');
  }

  check(nonce: string | undefined, token: string | undefined): boolean {
    if (!nonce) return false;
    return tokensEqual(token, this.tokenFor(nonce));
  }
}
