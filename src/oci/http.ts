/**
 * One registry request, done the way registries need it: authentication
 * (one challenge round per request), redirects to blob storage without the
 * registry's credentials, retries with back-off where they are safe (429 with
 * Retry-After, 502/503/504, a reset connection), and errors that say what
 * failed. Bodies are streams or factories, so a retry re-reads the source
 * instead of holding a blob in memory.
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { request } from './undici.js';
import {
  ChartprovError,
  RegistryCredentialsRejectedError,
  RegistryDeniedError,
  RegistryLoginRequiredError,
  RegistryRateLimitedError,
} from '../errors.js';
import { RegistryAuth, type AuthAttempt } from './auth.js';
import { parseChallenge } from './challenge.js';
import {
  describeErrorBody,
  isTransientNetworkError,
  networkError,
  readErrorBody,
  redactErrorBody,
  unexpectedStatus,
} from './registry-errors.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RegistryRequest {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  /** Bytes, or a factory that opens the body afresh (so the request can be retried). */
  body?: Uint8Array | string | (() => Readable);
  /** Token scopes this request needs, e.g. `repository:a/b:pull`. */
  scopes?: readonly string[];
  /** False when the body factory can be opened only once (a caller's stream): no retries then. */
  replayable?: boolean;
  /** Safe to send again after a 5xx, a 429 or a reset connection. Defaults to GET/HEAD. */
  idempotent?: boolean;
  /** Statuses the caller handles itself (returned, not thrown). */
  accept?: readonly number[];
  /**
   * The registry as the user wrote it (`host:443`, `[::1]:5000`): the key for
   * its credentials and tokens, which Helm stores as typed. Credentials go
   * only to URLs of that registry, never to another host or from https to http.
   */
  registry?: string;
  /** The registry's own origin (scheme, host, port); with `registry`. */
  registryOrigin?: string;
  /** Names the operation in messages: "pull helm-charts/hello-world:0.1.0". */
  what: string;
  signal?: AbortSignal;
}

export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered, after redirects. */
  url: URL;
}

export interface HttpOptions {
  dispatcher: Dispatcher;
  auth: RegistryAuth;
  userAgent: string;
  /** Retries for 429/5xx/resets (default 3). */
  retries?: number;
  /** Headers and body timeout per request (default 300 s; blobs stream for as long as data flows). */
  timeoutMs?: number;
  /** Longest wait honoured from Retry-After, in ms (default 60 s). */
  maxRetryAfterMs?: number;
  /** Called with one line per HTTP exchange (`--debug`): method, URL, status. Never headers or bodies. */
  trace?: (line: string) => void;
}

const MAX_REDIRECTS = 5;
export const DEFAULT_TIMEOUT_MS = 300_000;
const RETRY_STATUS = new Set([429, 502, 503, 504]);

export function header(res: { headers: RegistryResponse['headers'] }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export class RegistryHttp {
  constructor(private readonly opts: HttpOptions) {}

  get auth(): RegistryAuth {
    return this.opts.auth;
  }

  /** Retries allowed after 429/5xx/resets, for callers that repeat a larger operation (a blob download, an upload). */
  get retries(): number {
    return this.opts.retries ?? 3;
  }

  /** How long a registry may stay silent (no answer, no data), in ms. */
  get timeoutMs(): number {
    return this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async send(req: RegistryRequest): Promise<RegistryResponse> {
    const retries = this.retries;
    const idempotent = req.idempotent ?? (req.method === 'GET' || req.method === 'HEAD');
    const replayable = req.replayable ?? true;
    for (let attempt = 0; ; attempt++) {
      let res: RegistryResponse;
      try {
        res = await this.sendAuthenticated(req);
      } catch (err) {
        if (idempotent && replayable && attempt < retries && isTransientNetworkError(err)) {
          await sleep(backoff(attempt));
          continue;
        }
        throw err;
      }
      if (RETRY_STATUS.has(res.status) && !req.accept?.includes(res.status)) {
        const wait = retryAfter(header(res, 'retry-after'), this.opts.maxRetryAfterMs ?? 60_000) ?? backoff(attempt);
        const mayRetry = attempt < retries && (idempotent || res.status === 429) && replayable;
        if (mayRetry) {
          await res.body.dump();
          await sleep(wait);
          continue;
        }
        if (res.status === 429) {
          await res.body.dump();
          throw new RegistryRateLimitedError(`registry ${req.url.host} is rate limiting requests (429) to ${req.what}`);
        }
      }
      return this.checked(req, res);
    }
  }

  /** Sends with auth; on 401 answers the challenge once and sends again. */
  private async sendAuthenticated(req: RegistryRequest): Promise<RegistryResponse> {
    const host = req.registry ?? req.url.host;
    const scopes = req.scopes ?? [];
    const auth = this.opts.auth;
    if (!ownRegistry(req)) return this.sendFollowing(req, undefined);
    let authorization = await auth.headerFor(host, scopes);
    let res = await this.sendFollowing(req, authorization);
    if (res.status !== 401) return res;
    // A body that can be read once (a stream, a chunk hashed on the way) cannot go again.
    if (req.replayable === false) {
      await res.body.dump();
      throw this.unauthorized(req, await auth.describe(host), parseChallenge(header(res, 'www-authenticate'))?.params.error);
    }
    const challenge = parseChallenge(header(res, 'www-authenticate'));
    await res.body.dump();
    const retryWith = await auth.answer(host, challenge, scopes, authorization);
    if (retryWith === undefined || retryWith === authorization) {
      throw this.unauthorized(req, await auth.describe(host), challenge?.params.error);
    }
    authorization = retryWith;
    res = await this.sendFollowing(req, authorization);
    if (res.status === 401) {
      const again = parseChallenge(header(res, 'www-authenticate'));
      await res.body.dump();
      throw this.unauthorized(req, await auth.describe(host), again?.params.error);
    }
    return res;
  }

  private unauthorized(req: RegistryRequest, attempt: AuthAttempt, error: string | undefined): ChartprovError {
    const who = attempt.username ? `user ${attempt.username}` : 'these credentials';
    if (!attempt.hadCredential) {
      return new RegistryLoginRequiredError(`registry ${attempt.host} needs a login to ${req.what}`, {
        hint: `log in with chartprov registry login ${attempt.host} -u USER --password-stdin, or set CHARTPROV_USERNAME and CHARTPROV_PASSWORD`,
      });
    }
    // Bearer: the token service took the password but the registry refused the token's scope.
    if (attempt.scheme === 'bearer' || error === 'insufficient_scope') {
      return new RegistryDeniedError(`${who} may not ${req.what} on ${attempt.host}`);
    }
    return new RegistryCredentialsRejectedError(`registry ${attempt.host} rejected the password of ${who}`, {
      hint: `check the password, then chartprov registry login ${attempt.host} -u USER --password-stdin`,
    });
  }

  /** One request, following redirects; credentials go only to the registry's own origin. */
  private async sendFollowing(req: RegistryRequest, authorization: string | undefined): Promise<RegistryResponse> {
    let url = req.url;
    for (let hop = 0; ; hop++) {
      const sameOrigin = url.origin === req.url.origin;
      const headers: Record<string, string> = { 'user-agent': this.opts.userAgent, ...req.headers };
      if (authorization && sameOrigin) headers.authorization = authorization;
      const body = hop === 0 ? openBody(req.body) : undefined;
      let raw: Dispatcher.ResponseData;
      try {
        raw = await request(url, {
          dispatcher: this.opts.dispatcher,
          method: hop === 0 ? req.method : req.method === 'HEAD' ? 'HEAD' : 'GET',
          headers,
          body,
          // undici closes the connection after every HEAD (for servers that send a body anyway);
          // registries do not, and a push HEADs every blob: keep the connection (and its TLS session).
          ...(req.method === 'HEAD' ? { reset: false } : {}),
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          signal: req.signal,
        });
      } catch (err) {
        if (body && typeof body === 'object' && 'destroy' in body) (body as Readable).destroy();
        this.opts.trace?.(`${req.method} ${traced(url)} → ${(err as Error).message}`);
        throw networkError(err, url.host, { tls: url.protocol === 'https:', timeoutMs: this.timeoutMs, what: req.what });
      }
      this.opts.trace?.(`${hop === 0 ? req.method : 'GET'} ${traced(url)} → ${raw.statusCode}`);
      const location = raw.headers.location;
      const redirect = raw.statusCode >= 300 && raw.statusCode < 400 && raw.statusCode !== 304 && location;
      // Only reads follow redirects (blob downloads to S3/CDN); an upload's Location is for the caller.
      if (!redirect || !(req.method === 'GET' || req.method === 'HEAD')) {
        return { status: raw.statusCode, headers: raw.headers, body: raw.body, url };
      }
      await raw.body.dump();
      if (hop >= MAX_REDIRECTS)
        throw unexpectedStatus(raw.statusCode, `${req.what} (more than ${MAX_REDIRECTS} redirects)`, { errors: [], text: '' });
      url = new URL(Array.isArray(location) ? location[0]! : location, url);
    }
  }

  private async checked(req: RegistryRequest, res: RegistryResponse): Promise<RegistryResponse> {
    if (res.status < 300 || req.accept?.includes(res.status)) return res;
    if (req.method === 'HEAD') {
      await res.body.dump();
      if (res.status === 403) throw new RegistryDeniedError(`not allowed to ${req.what} on ${req.url.host}`);
      throw unexpectedStatus(res.status, req.what, { errors: [], text: '' });
    }
    // What a registry (or a proxy before it) answers may quote the request: never repeat a credential we sent.
    const body = redactErrorBody(await readErrorBody(res.body), await this.opts.auth.secrets(req.registry ?? req.url.host));
    if (res.status === 403) {
      const said = describeErrorBody(body);
      throw new RegistryDeniedError(`not allowed to ${req.what} on ${req.url.host}${said ? `: ${said}` : ''}`);
    }
    // A write into a namespace that does not exist: Harbor and chartprov serve need the project first.
    if (res.status === 404 && req.method !== 'GET' && body.errors.some((e) => e.code === 'NAME_UNKNOWN')) {
      const project = req.url.pathname.split('/')[2] ?? '';
      throw new RegistryDeniedError(`cannot ${req.what} on ${req.url.host}: ${describeErrorBody(body)}`, {
        hint: `create the project ${project} first (Harbor: Projects → New Project; chartprov serve: chartprov serve project create ${project})`,
      });
    }
    throw unexpectedStatus(res.status, req.what, body);
  }
}

/** Whether the request goes to the registry it is about (same host and port, no https → http downgrade). */
function ownRegistry(req: RegistryRequest): boolean {
  return !req.registryOrigin || req.url.origin === req.registryOrigin;
}

/**
 * A URL as --debug prints it: no query string, which can hold a pre-signed
 * storage URL's credentials (X-Amz-Signature, tokens) or an upload's state;
 * the digest of an upload stays, it says which blob.
 */
function traced(url: URL): string {
  const digest = url.searchParams.get('digest');
  return `${url.origin}${url.pathname}${digest ? `?digest=${digest}` : url.search ? '?…' : ''}`;
}

function openBody(body: RegistryRequest['body']): Readable | Uint8Array | string | undefined {
  return typeof body === 'function' ? body() : body;
}

/** The pause before retry `attempt` (0-based): 200 ms doubling up to 5 s, ±25 % so parallel clients spread out. */
export function backoff(attempt: number): number {
  return Math.min(200 * 2 ** attempt, 5_000) * (0.75 + Math.random() * 0.5);
}

/** Retry-After in seconds or as an HTTP date, capped. */
export function retryAfter(value: string | undefined, maxMs: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), maxMs);
}
