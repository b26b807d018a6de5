/**
 * How the UI answers: every response carries headers that keep a page from
 * running anything but our own files (a strict Content-Security-Policy, no
 * inline script or style), from being framed, sniffed into another type or
 * leaking its URL to other sites. Pages are never cached: they show what a
 * session may see now.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SafeHtml } from './html.js';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
});

/** A failure the router turns into an HTML page with this status. */
export class UiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = () => new UiError(404, 'Not found');
export const forbidden = (what = 'You are not allowed to do this.') => new UiError(403, what);

export function sendHtml(res: ServerResponse, status: number, page: SafeHtml, headers: Record<string, string> = {}, head = false): void {
  const body = Buffer.from(`<!DOCTYPE html>\n${page.value}`, 'utf8');
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': String(body.length),
  });
  res.end(head ? undefined : body);
}

/** HSTS, for a UI the browser reaches over TLS (directly, or through an https proxy): never plain HTTP again. */
export const HSTS_HEADER: Readonly<Record<string, string>> = Object.freeze({ 'Strict-Transport-Security': 'max-age=31536000' });

/** The headers every response of the UI carries; HSTS when the browser reaches it over https. */
export function securityHeaders(https: boolean): Record<string, string> {
  return https ? { ...SECURITY_HEADERS, ...HSTS_HEADER } : { ...SECURITY_HEADERS };
}

/**
 * A path of this server for a Location header, else `/ui/`. Browsers read
 * `//host`, `/\host` (a backslash is a slash to them) and paths with
 * whitespace or control characters (removed or kept) as another site.
 */
export function safeRedirectTarget(location: string): string {
  return /^\/(?![/\\])/.test(location) && !/[\\\s\x00-\x1f\x7f]/.test(location) ? location : '/ui/';
}

/** 303 See Other: after a POST the browser GETs the result (POST-redirect-GET); only our own paths. */
export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  const target = safeRedirectTarget(location);
  res.writeHead(303, { ...SECURITY_HEADERS, ...headers, Location: target, 'Cache-Control': 'no-store', 'Content-Length': '0' });
  res.end();
}

export interface CookieOptions {
  maxAgeSeconds?: number;
  secure: boolean;
}

/** A cookie for the UI's paths only, never readable from script, not sent on cross-site subrequests or POSTs. */
export function cookie(name: string, value: string, opts: CookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/ui', 'HttpOnly', 'SameSite=Lax'];
  if (opts.maxAgeSeconds !== undefined) parts.push(`Max-Age=${opts.maxAgeSeconds}`);
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      // Our values are base64url: anything else is not one of ours.
      return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}
