/**
 * Cross-site request forgery defences for the UI's forms: every POST must
 * come from a page of this server (Origin, else Referer, naming our own
 * origin) and carry the token of its session in a hidden field, compared
 * in constant time. The login form has no session yet: its token is an HMAC
 * of a random nonce kept in a short-lived cookie and of the time it was
 * issued (double submit, signed with a key that lives only in this process,
 * refused after the cookie's lifetime).
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

/** How long a login form (its nonce cookie and its token) is good for. */
export const LOGIN_FORM_MAX_AGE_SECONDS = 3600;

/**
 * Tokens for the login form, before there is a session: `<issued>.<mac>`,
 * the HMAC covering the nonce and the time the form was issued, so a token
 * is refused past the cookie's lifetime whatever the browser keeps.
 */
export class LoginCsrf {
  private readonly key = randomBytes(32);

  constructor(private readonly now: () => number = Date.now) {}

  /** A fresh nonce for the cookie. */
  nonce(): string {
    return randomBytes(18).toString('base64url');
  }

  /** The form token that goes with `nonce`, issued now. */
  tokenFor(nonce: string): string {
    const issued = Math.floor(this.now() / 1000).toString(36);
    return `${issued}.${this.mac(nonce, issued)}`;
  }

  check(nonce: string | undefined, token: string | undefined): boolean {
    if (!nonce || token === undefined) return false;
    const m = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return false;
    const [, issued, mac] = m;
    if (!tokensEqual(mac, this.mac(nonce, issued!))) return false;
    const age = Math.floor(this.now() / 1000) - parseInt(issued!, 36);
    // A little slack for a clock stepped back; none past the lifetime.
    return age >= -60 && age <= LOGIN_FORM_MAX_AGE_SECONDS;
  }

  private mac(nonce: string, issued: string): string {
    return createHmac('sha256', this.key).update(`login\0${nonce}\0${issued}`).digest('base64url');
  }
}
