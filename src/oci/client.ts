/**
 * The OCI registry client: one object per set of options (TLS, credentials),
 * holding the connection pool, the auth state and what it learnt about each
 * registry. It knows nothing about Helm; `repository()` hands out the object
 * that reads and writes one repository.
 */
import type { Dispatcher } from 'undici';
import { RegistryAuth, type CredentialLookup, type RegistryCredential } from './auth.js';
import { RegistryHttp } from './http.js';
import { Repository } from './repository.js';
import { createTransport, type TlsOptions } from './transport.js';

export interface RegistryClientOptions extends TlsOptions {
  /** Talk HTTP instead of HTTPS: to every registry (true) or to those the function picks. */
  plainHttp?: boolean | ((registry: string) => boolean);
  /** Where credentials come from (a CredentialStore); none means anonymous. */
  credentials?: CredentialLookup;
  /** Use exactly this credential for every registry (login checks it before saving it). */
  credential?: RegistryCredential;
  userAgent?: string;
  /** Retries after 429/5xx/reset for requests that are safe to repeat (default 3). */
  retries?: number;
  /**
   * How long the registry may stay silent, in ms (default 300 000): no answer
   * to a request, or no data while a body flows either way. A slow transfer
   * that keeps moving is never cut off. Also caps the connect timeout (15 s).
   */
  timeoutMs?: number;
  /** Longest wait honoured from a 429's Retry-After, in ms (default 60 000). */
  maxRetryAfterMs?: number;
  /** One line per HTTP exchange (method, URL, status), for `--debug`; never headers or bodies. */
  trace?: (line: string) => void;
  /** Parallel connections per registry (default 16). */
  connections?: number;
  env?: NodeJS.ProcessEnv;
  /** Use this connection pool instead of making one (it is then not closed by close()). */
  dispatcher?: Dispatcher;
}

export class RegistryClient {
  readonly http: RegistryHttp;
  private readonly ownsDispatcher: boolean;

  private constructor(
    private readonly opts: RegistryClientOptions,
    private readonly dispatcher: Dispatcher,
  ) {
    this.ownsDispatcher = !opts.dispatcher;
    const userAgent = opts.userAgent ?? 'chartprov';
    const timeoutMs = opts.timeoutMs ?? 300_000;
    const auth = new RegistryAuth({ credentials: opts.credentials, credential: opts.credential, dispatcher, userAgent, timeoutMs });
    this.http = new RegistryHttp({
      dispatcher,
      auth,
      userAgent,
      retries: opts.retries,
      timeoutMs,
      maxRetryAfterMs: opts.maxRetryAfterMs,
      trace: opts.trace,
    });
  }

  static async create(opts: RegistryClientOptions = {}): Promise<RegistryClient> {
    // A short --timeout also bounds the wait for a connection (15 s otherwise).
    const connectTimeoutMs = opts.timeoutMs === undefined ? undefined : Math.min(15_000, opts.timeoutMs);
    const dispatcher = opts.dispatcher ?? (await createTransport({ ...opts, connectTimeoutMs }));
    return new RegistryClient(opts, dispatcher);
  }

  /** `https://host:port` (or http with plainHttp) for a registry as written in a reference. */
  baseUrl(registry: string): URL {
    const plain = typeof this.opts.plainHttp === 'function' ? this.opts.plainHttp(registry) : Boolean(this.opts.plainHttp);
    // As docker and oras: docker.io is a name, the registry behind it is registry-1.docker.io.
    const host = registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
    return new URL(`${plain ? 'http' : 'https'}://${host}`);
  }

  repository(registry: string, name: string): Repository {
    return new Repository(this, registry, name);
  }

  /**
   * `GET /v2/`: the registry answers and accepts our credentials (a bearer
   * registry's token service checks them even without a scope).
   */
  async ping(registry: string): Promise<void> {
    const base = this.baseUrl(registry);
    const res = await this.http.send({ method: 'GET', url: new URL('/v2/', base), registry, registryOrigin: base.origin, what: 'log in' });
    await res.body.dump();
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}
