/**
 * Downloads from places that are not OCI registries: a classic chart
 * repository (index.yaml, chart archives, `.prov` files) and `--prov-url`.
 * http(s) goes through the registry client's connection pool
 * (src/oci/transport.ts: the same --ca-file, client certificate,
 * --insecure-skip-tls-verify and HTTPS_PROXY handling) and undici's request
 * API, with the same retries as registry requests; `file:` URLs read the disk.
 *
 * No registry auth here. Basic credentials, when given, go only to the
 * origins they are for (Helm's rule: same scheme, host and port as the
 * repository), on every redirect hop too.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Dispatcher } from 'undici';
import {
  ChartprovError,
  FileReadError,
  RegistryCredentialsRejectedError,
  RegistryDeniedError,
  RegistryError,
  RegistryLoginRequiredError,
  RegistryRateLimitedError,
  RegistryTimeoutError,
  RegistryTlsError,
  RegistryUnreachableError,
} from '../errors.js';
import { toWriteError } from '../fs/atomic-write.js';
import { basicHeader, credentialSecrets } from '../oci/auth.js';
import { retryAfter } from '../oci/http.js';
import { describeErrorBody, isTransientNetworkError, networkError, readErrorBody, redactErrorBody } from '../oci/registry-errors.js';
import { createTransport, type TlsOptions } from '../oci/transport.js';
import { request } from '../oci/undici.js';

declare const __CHARTPROV_VERSION__: string;
const VERSION = typeof __CHARTPROV_VERSION__ === 'string' ? __CHARTPROV_VERSION__ : 'dev';

export interface BasicCredential {
  username: string;
  password: string;
}

export interface HttpGetterOptions extends TlsOptions {
  env?: NodeJS.ProcessEnv;
  /** One line per HTTP exchange (`--debug`): method, URL without query, status. */
  trace?: (line: string) => void;
  /** Headers and body timeout per request (default 300 s). */
  timeoutMs?: number;
  /** Retries after 429/502/503/504 or a reset connection (default 3). */
  retries?: number;
  credential?: BasicCredential;
  /** Origins (`https://host:port`) that may receive `credential`; `'all'` is Helm's --pass-credentials. */
  credentialOrigins?: readonly string[] | 'all';
  /** Hint for a 401: how to give credentials here. */
  loginHint?: string;
}

/** What one download is, for messages: "download index.yaml". */
export interface GetOptions {
  what: string;
}

export interface LimitedGetOptions extends GetOptions {
  maxBytes: number;
  /** The error for content larger than maxBytes. */
  tooLarge: (size: number) => ChartprovError;
}

interface Opened {
  body: Readable;
  /** Content-Length or the file's size, when known. */
  size?: number;
}

interface Response {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered, after redirects. */
  url: URL;
}

const MAX_REDIRECTS = 5;
const RETRY_STATUS = new Set([429, 502, 503, 504]);

export class HttpGetter {
  private pool?: Promise<Dispatcher>;

  constructor(private readonly opts: HttpGetterOptions = {}) {}

  /** The content at `url`, read whole up to `maxBytes`; undefined when there is nothing (404, 410, no such file). */
  async bytes(url: URL, opts: LimitedGetOptions): Promise<Buffer | undefined> {
    const opened = await this.open(url, opts);
    if (!opened) return undefined;
    if (opened.size !== undefined && opened.size > opts.maxBytes) {
      opened.body.destroy();
      throw opts.tooLarge(opened.size);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of opened.body) {
        size += (chunk as Buffer).length;
        if (size > opts.maxBytes) throw opts.tooLarge(size);
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      opened.body.destroy();
      throw this.bodyError(err, url);
    }
    return Buffer.concat(chunks);
  }

  /**
   * Streams `url` into a new file at `path` (never replacing one), hashing on
   * the way; undefined when there is nothing there. A failure removes the file.
   */
  async toFile(url: URL, path: string, opts: LimitedGetOptions): Promise<{ sha256: string; size: number } | undefined> {
    const opened = await this.open(url, opts);
    if (!opened) return undefined;
    if (opened.size !== undefined && opened.size > opts.maxBytes) {
      opened.body.destroy();
      throw opts.tooLarge(opened.size);
    }
    const meter = new Meter(opts.maxBytes, opts.tooLarge);
    try {
      await pipeline(opened.body, meter, createWriteStream(path, { flags: 'wx', mode: 0o644 }));
    } catch (err) {
      await rm(path, { force: true });
      if (err instanceof ChartprovError) throw err;
      if ((err as { syscall?: string }).syscall === 'open' || (err as { path?: string }).path === path) throw toWriteError(path, err);
      throw this.bodyError(err, url);
    }
    return { sha256: meter.hex(), size: meter.size };
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    // A pool that never came up (an unreadable --ca-file) has nothing to close; its error was reported.
    if (pool)
      await pool.then(
        (dispatcher) => dispatcher.close(),
        () => undefined,
      );
  }

  /** GET with redirects and retries; undefined for 404/410 or a missing file. */
  private async open(url: URL, opts: GetOptions): Promise<Opened | undefined> {
    if (url.protocol === 'file:') return openFile(url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RegistryError(`cannot ${opts.what}: ${url.protocol} URLs are not supported (http, https or file)`);
    }
    const retries = this.opts.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.following(url);
      } catch (err) {
        if (attempt < retries && isTransientNetworkError(err)) {
          await sleep(backoff(attempt));
          continue;
        }
        throw this.bodyError(err, url);
      }
      if (res.status >= 200 && res.status < 300) {
        const length = header(res.headers, 'content-length');
        return { body: res.body, size: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined };
      }
      if (RETRY_STATUS.has(res.status) && attempt < retries) {
        await res.body.dump();
        await sleep(retryAfter(header(res.headers, 'retry-after'), 60_000) ?? backoff(attempt));
        continue;
      }
      await this.refuse(res, opts);
      return undefined;
    }
  }

  /** One GET, following redirects; the credential goes to allowed origins only. */
  private async following(start: URL): Promise<Response> {
    const dispatcher = await (this.pool ??= createTransport({ ...this.opts, connections: 8 }));
    let url = start;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': `chartprov/${VERSION}`, accept: '*/*' };
      const authorization = this.authorizationFor(url);
      if (authorization) headers.authorization = authorization;
      let raw: Dispatcher.ResponseData;
      try {
        raw = await request(url, {
          dispatcher,
          method: 'GET',
          headers,
          headersTimeout: this.opts.timeoutMs ?? 300_000,
          bodyTimeout: this.opts.timeoutMs ?? 300_000,
        });
      } catch (err) {
        this.opts.trace?.(`GET ${traced(url)} → ${(err as Error).message}`);
        throw err;
      }
      this.opts.trace?.(`GET ${traced(url)} → ${raw.statusCode}`);
      const location = raw.headers.location;
      if (raw.statusCode < 300 || raw.statusCode >= 400 || raw.statusCode === 304 || !location) {
        return { status: raw.statusCode, headers: raw.headers, body: raw.body, url };
      }
      await raw.body.dump();
      if (hop >= MAX_REDIRECTS) {
        throw new RegistryError(`more than ${MAX_REDIRECTS} redirects from ${traced(start)}`, raw.statusCode, {
          hint: 'check the URL and the server; --debug shows each request',
        });
      }
      url = new URL(Array.isArray(location) ? location[0]! : location, url);
    }
  }

  /** What an error page must never bring into a message: the password and its Basic encoding. */
  private secrets(): string[] {
    return credentialSecrets(this.opts.credential);
  }

  private authorizationFor(url: URL): string | undefined {
    const { credential, credentialOrigins } = this.opts;
    if (!credential) return undefined;
    const allowed = credentialOrigins === 'all' || (credentialOrigins ?? []).includes(url.origin);
    if (!allowed) return undefined;
    return basicHeader(credential);
  }

  /** A status that is not content: 404/410 return quietly, everything else throws a coded error. */
  private async refuse(res: Response, opts: GetOptions): Promise<void> {
    if (res.status === 404 || res.status === 410) {
      await res.body.dump();
      return;
    }
    // An error page may quote the request, Authorization header included.
    const body = redactErrorBody(await readErrorBody(res.body), this.secrets());
    const said = describeErrorBody(body);
    const host = res.url.host;
    if (res.status === 401) {
      const sent = Boolean(this.authorizationFor(res.url));
      if (!sent) {
        throw new RegistryLoginRequiredError(`${host} needs a login to ${opts.what}`, {
          hint: this.opts.loginHint ?? 'pass --username USER --password-stdin, or set CHARTPROV_USERNAME and CHARTPROV_PASSWORD',
        });
      }
      throw new RegistryCredentialsRejectedError(`${host} rejected the password of user ${this.opts.credential!.username}`, {
        hint: 'check the user name and password (--username, --password-stdin or CHARTPROV_USERNAME/CHARTPROV_PASSWORD)',
      });
    }
    if (res.status === 403) throw new RegistryDeniedError(`not allowed to ${opts.what} on ${host}${said ? `: ${said}` : ''}`);
    if (res.status === 429) throw new RegistryRateLimitedError(`${host} is rate limiting requests (429) to ${opts.what}`);
    throw new RegistryError(`${host} answered ${res.status} to ${opts.what}${said ? `: ${said}` : ''}`, res.status, {
      hint: 'check the URL and the server; --debug shows each request',
    });
  }

  /** A network failure worded for a web server, not a registry. */
  private bodyError(err: unknown, url: URL): ChartprovError {
    if (err instanceof ChartprovError) return err;
    const e = networkError(err, url.host, {
      tls: url.protocol === 'https:',
      ...(this.opts.timeoutMs !== undefined ? { timeoutMs: this.opts.timeoutMs } : {}),
    });
    if (e instanceof RegistryTimeoutError) {
      return new RegistryTimeoutError(e.message.replace(/^registry /, ''), {
        cause: err,
        hint: 'the server is slow or stuck: try again later, or allow it longer with --timeout (or CHARTPROV_TIMEOUT)',
      });
    }
    if (e instanceof RegistryTlsError) {
      const plain = /does not speak TLS/.test(e.message);
      return new RegistryTlsError(e.message, {
        cause: err,
        hint: plain
          ? `${url.host} serves plain HTTP: write the URL with http://`
          : "pass the server's CA with --ca-file, or --insecure-skip-tls-verify for a test server",
      });
    }
    if (e instanceof RegistryUnreachableError) {
      return new RegistryUnreachableError(e.message.replace(/^cannot reach registry /, 'cannot reach '), {
        cause: err,
        hint: 'check the URL, and that the server is running',
      });
    }
    return e;
  }
}

async function openFile(url: URL): Promise<Opened | undefined> {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (err) {
    throw new FileReadError(url.href, 'file', { cause: err, hint: 'write a local file as file:///absolute/path' });
  }
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw new FileReadError(path, 'file', { cause: err });
  });
  if (!st) return undefined;
  if (!st.isFile()) throw new FileReadError(path, 'file', { cause: Object.assign(new Error('not a regular file'), { code: 'EISDIR' }) });
  return { body: createReadStream(path), size: st.size };
}

/** Counts and hashes bytes on their way to disk; fails as soon as there are too many. */
class Meter extends Transform {
  size = 0;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly max: number,
    private readonly tooLarge: (size: number) => ChartprovError,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.max) return done(this.tooLarge(this.size));
    this.hash.update(chunk);
    done(null, chunk);
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A URL as --debug prints it: without the query, which may hold a signed URL's secret. */
export function traced(url: URL): string {
  return `${url.origin === 'null' ? `${url.protocol}//` : url.origin}${url.pathname}${url.search ? '?…' : ''}`;
}

function backoff(attempt: number): number {
  return Math.min(200 * 2 ** attempt, 5_000) * (0.75 + Math.random() * 0.5);
}
