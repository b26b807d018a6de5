/**
 * Registry authentication as a transport concern (oras-go's auth.Client is
 * the model): remember per registry which scheme it asked for, cache bearer
 * tokens per scope set, and answer a 401 challenge once. Secrets stay in this
 * module's memory; no message built here ever includes one.
 */
import type { Dispatcher } from 'undici';
import { request } from './undici.js';
import { RegistryCredentialsRejectedError, RegistryError, RegistryLoginRequiredError } from '../errors.js';
import type { AuthChallenge } from './challenge.js';
import { mergeScopes } from './challenge.js';
import type { RegistryCredential } from './credentials/types.js';
import { describeErrorBody, networkError, readErrorBody, redactSecrets } from './registry-errors.js';

export type { RegistryCredential };

/** Where credentials come from: a CredentialStore, or anything shaped like it. */
export interface CredentialLookup {
  get(host: string): Promise<{ credential: RegistryCredential; source: string } | undefined>;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

interface HostState {
  scheme?: 'basic' | 'bearer';
  /** realm/service of the last bearer challenge, to fetch tokens for new scopes without a round trip. */
  bearer?: { realm: string; service?: string };
  tokens: Map<string, CachedToken>;
  /** Token requests in flight, so parallel transfers share one round trip to the token service. */
  pending: Map<string, Promise<string>>;
  credential?: Promise<RegistryCredential | undefined>;
}

export interface AuthOptions {
  credentials?: CredentialLookup;
  /** Used instead of any lookup (login checks credentials before saving them). */
  credential?: RegistryCredential;
  dispatcher: Dispatcher;
  userAgent: string;
  timeoutMs: number;
}

/** What the request loop needs to say after a 401 that survived one challenge. */
export interface AuthAttempt {
  host: string;
  hadCredential: boolean;
  username?: string;
  scheme?: 'basic' | 'bearer';
}

export class RegistryAuth {
  private readonly hosts = new Map<string, HostState>();

  constructor(private readonly opts: AuthOptions) {}

  private state(host: string): HostState {
    let s = this.hosts.get(host);
    if (!s) this.hosts.set(host, (s = { tokens: new Map(), pending: new Map() }));
    return s;
  }

  credentialFor(host: string): Promise<RegistryCredential | undefined> {
    const s = this.state(host);
    s.credential ??= this.opts.credential
      ? Promise.resolve(this.opts.credential)
      : (this.opts.credentials?.get(host).then((found) => found?.credential) ?? Promise.resolve(undefined));
    return s.credential;
  }

  /**
   * Every secret this client may have sent to `host`: the password, tokens,
   * the Basic header's encoding, the bearer tokens it holds. Error messages
   * built from what the registry answered are cleaned of them.
   */
  async secrets(host: string): Promise<string[]> {
    const s = this.hosts.get(host);
    const cred = s?.credential ? await s.credential.catch(() => undefined) : undefined;
    return [...credentialSecrets(cred), ...[...(s?.tokens.values() ?? [])].map((t) => t.token)].filter(
      (v): v is string => typeof v === 'string' && v.length > 0,
    );
  }

  describe(host: string): Promise<AuthAttempt> {
    return this.credentialFor(host).then((c) => ({
      host,
      hadCredential: Boolean(c && (c.password || c.identityToken || c.registryToken)),
      username: c?.username,
      scheme: this.state(host).scheme,
    }));
  }

  /** The Authorization header to send before any challenge, from what earlier requests learnt. */
  async headerFor(host: string, scopes: readonly string[]): Promise<string | undefined> {
    const s = this.state(host);
    if (s.scheme === 'basic') return basicHeader(await this.credentialFor(host));
    if (s.scheme === 'bearer') {
      const key = mergeScopes(scopes).join(' ');
      const cached = s.tokens.get(key);
      if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
      // A known realm: fetch the token for the new scope now instead of after a 401.
      if (s.bearer) return `Bearer ${await this.fetchToken(host, s, mergeScopes(scopes))}`;
    }
    return undefined;
  }

  /**
   * Answers a 401's challenge: returns the header to retry with, or
   * undefined when there is nothing more to try (no credentials for Basic).
   */
  async answer(host: string, challenge: AuthChallenge | undefined, scopes: readonly string[], sent?: string): Promise<string | undefined> {
    const s = this.state(host);
    if (!challenge || challenge.scheme === 'other') return undefined;
    if (challenge.scheme === 'basic') {
      s.scheme = 'basic';
      return basicHeader(await this.credentialFor(host));
    }
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`registry ${host} asked for a bearer token without naming a realm`);
    s.scheme = 'bearer';
    s.bearer = { realm, service: challenge.params.service };
    const all = mergeScopes(scopes, challenge.params.scope ? [challenge.params.scope] : []);
    const key = mergeScopes(scopes).join(' ');
    // Parallel requests sent before we knew the scheme all come back 401: the
    // first one's token serves the others. A token that was itself refused is dropped.
    const cached = s.tokens.get(key);
    if (cached && cached.expiresAt > Date.now() && `Bearer ${cached.token}` !== sent) return `Bearer ${cached.token}`;
    s.tokens.delete(key);
    return `Bearer ${await this.fetchToken(host, s, all, key)}`;
  }

  private fetchToken(host: string, s: HostState, scopes: string[], cacheKey = scopes.join(' ')): Promise<string> {
    let pending = s.pending.get(cacheKey);
    if (!pending) {
      pending = this.requestToken(host, s, scopes, cacheKey).finally(() => s.pending.delete(cacheKey));
      s.pending.set(cacheKey, pending);
    }
    return pending;
  }

  private async requestToken(host: string, s: HostState, scopes: string[], cacheKey: string): Promise<string> {
    const cred = await this.credentialFor(host);
    if (cred?.registryToken) return cred.registryToken;
    const { realm, service } = s.bearer!;
    let url: URL;
    try {
      url = new URL(realm);
    } catch (err) {
      throw new RegistryError(`registry ${host} named an invalid token realm`, undefined, { cause: err });
    }
    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent, accept: 'application/json' };
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    if (cred?.identityToken) {
      // An identity (refresh) token is exchanged with the OAuth2 grant, as docker and oras do.
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cred.identityToken, client_id: 'chartprov' });
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      body = form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (service) url.searchParams.set('service', service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      const basic = basicHeader(cred);
      if (basic) headers.authorization = basic;
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        dispatcher: this.opts.dispatcher,
        method,
        headers,
        body,
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
      });
    } catch (err) {
      throw networkError(err, url.host, { timeoutMs: this.opts.timeoutMs, what: `get a token for ${host}` });
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      const hadCredential = Boolean(cred && (cred.password || cred.identityToken));
      if (hadCredential) {
        throw new RegistryCredentialsRejectedError(
          `registry ${host} rejected the credentials${cred?.username ? ` of user ${cred.username}` : ''}`,
        );
      }
      throw new RegistryLoginRequiredError(`registry ${host} needs a login`);
    }
    if (res.statusCode !== 200) {
      // A token service may echo the request: never quote a secret we sent it.
      const said = redactSecrets(describeErrorBody(await readErrorBody(res.body)), credentialSecrets(cred));
      throw new RegistryError(`token service of ${host} answered ${res.statusCode}${said ? `: ${said}` : ''}`, res.statusCode);
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = (await res.body.json()) as typeof parsed;
    } catch {
      // No cause: a JSON parser's message quotes the text, which may hold a token.
      throw new RegistryError(`token service of ${host} sent a response that is not JSON`, 200);
    }
    const token = typeof parsed.token === 'string' && parsed.token ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || !token) throw new RegistryError(`token service of ${host} sent no token`, 200);
    // The spec's default lifetime is 60 s; renew a little early so a token never expires in flight.
    const lifetime = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
    s.tokens.set(cacheKey, { token, expiresAt: Date.now() + Math.max(lifetime - 10, lifetime / 2) * 1000 });
    return token;
  }
}

/** `Basic base64(user:password)`, or undefined without both. */
export function basicHeader(cred: RegistryCredential | undefined): string | undefined {
  if (!cred || cred.username === undefined || cred.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${cred.username}:${cred.password}`, 'utf8').toString('base64')}`;
}

/** What of a credential an error message must never repeat: password, tokens, the Basic encoding. */
export function credentialSecrets(cred: RegistryCredential | undefined): string[] {
  return [cred?.password, cred?.identityToken, cred?.registryToken, basicHeader(cred)?.slice('Basic '.length)].filter((v): v is string =>
    Boolean(v),
  );
}
