// A minimal Docker token-auth server (https://distribution.github.io/distribution/spec/auth/token/)
// for docker-registry's `auth.token` mode, so client tests exercise the real
// Bearer challenge → token → retry dance without Harbor or Docker Hub.
//
// distribution 2.8 accepts a JWT when (registry/auth/token/token.go):
// - `iss` equals the configured issuer and `aud` is a *string* equal to the
//   configured service (an array of audiences fails to parse: "malformed token");
// - exp/nbf hold with 60 s of leeway each way;
// - the header's `x5c` leaf certificate chains to `rootcertbundle`
//   (a self-signed leaf listed there is its own root), or `kid` is the
//   libtrust key id of a cert in the bundle;
// - `alg` matches the key: ES256 on P-256, signature as raw r‖s (JOSE), not DER.
import { randomBytes, randomUUID, sign, X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tempDir } from './tmp.js';
import { issueServerCert, makeSelfSignedCert, type TestCa } from './tls.js';

/** Which of `actions` on `name` the user (undefined: anonymous) gets. */
export type Grants = (user: string | undefined, name: string, actions: string[], type: string) => string[];

export interface TokenServerOptions {
  /** username → password for Basic auth and the OAuth2 password grant. */
  users: Record<string, string>;
  /** Default: authenticated users get every action asked, anonymous ones nothing. */
  grants?: Grants;
  service?: string;
  issuer?: string;
  /**
   * Token lifetime (`exp` and `expires_in`). The registry adds 60 s of leeway,
   * so a token it must already reject needs a value below -60.
   */
  ttlSeconds?: number;
  /** Serve HTTPS with a certificate from this CA instead of plain HTTP. */
  tls?: TestCa;
}

export interface TokenRequest {
  method: 'GET' | 'POST';
  /** The requested scopes, space-separated as in the challenge (empty for none). */
  scope: string;
  /** Authenticated user, undefined when anonymous or refused. */
  user: string | undefined;
  /** For POST: `password` or `refresh_token`. */
  grantType?: string;
  status: number;
}

export interface Access {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenServer {
  /** http(s)://127.0.0.1:PORT */
  url: string;
  /** The token endpoint, for the registry's `auth.token.realm`. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate whose key signs the tokens, for `auth.token.rootcertbundle`. */
  certFile: string;
  /** Every request to the token endpoint, in order; tests assert token caching with it. */
  requests: TokenRequest[];
  /** A token as the endpoint would issue it, bypassing grants, for negative tests. */
  mintToken(opts: { user?: string; access: Access[]; ttlSeconds?: number; issuer?: string; service?: string }): string;
  stop(): Promise<void>;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** `repository:name:pull,push` → parts; the name itself may not hold `:` but the type may carry `(class)`. */
function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

/** Scopes from repeated `scope` params, each possibly space-separated (the OAuth2 form joins them). */
function parseScopes(values: string[]): string[] {
  return values.flatMap((v) => v.split(' ')).filter(Boolean);
}

function basicUser(req: IncomingMessage): { user: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function signJwt(key: KeyObject, x5c: string, claims: object): string {
  const header = { typ: 'JWT', alg: 'ES256', x5c: [x5c] };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const service = opts.service ?? 'chartprov-test-registry';
  const issuer = opts.issuer ?? 'chartprov-test-token-server';
  const ttl = opts.ttlSeconds ?? 60;
  const grants: Grants = opts.grants ?? ((user, _name, actions) => (user === undefined ? [] : actions));
  const tmp = await tempDir('chartprov-token-');
  const signing = await makeSelfSignedCert(tmp.dir, { name: 'token-signing' });
  const key = createPrivateKey(signing.keyPem);
  const x5c = new X509Certificate(signing.certPem).raw.toString('base64');
  const refreshTokens = new Map<string, string>();
  const requests: TokenRequest[] = [];

  const mintToken: TokenServer['mintToken'] = (o) => {
    const now = Math.floor(Date.now() / 1000);
    const lifetime = o.ttlSeconds ?? ttl;
    return signJwt(key, x5c, {
      iss: o.issuer ?? issuer,
      sub: o.user ?? '',
      aud: o.service ?? service,
      exp: now + lifetime,
      nbf: now - 1,
      iat: now,
      jti: randomUUID(),
      access: o.access,
    });
  };

  /** Grants per requested scope, merging repeats of one resource. */
  const grantedAccess = (user: string | undefined, scopes: string[]): Access[] => {
    const byResource = new Map<string, Access>();
    for (const scope of scopes) {
      const asked = parseScope(scope);
      if (!asked) continue;
      const allowed = grants(user, asked.name, asked.actions, asked.type).filter((a) => asked.actions.includes(a));
      const id = `${asked.type}\0${asked.name}`;
      const entry = byResource.get(id) ?? { type: asked.type, name: asked.name, actions: [] };
      for (const a of allowed) if (!entry.actions.includes(a)) entry.actions.push(a);
      byResource.set(id, entry);
    }
    return [...byResource.values()].filter((a) => a.actions.length > 0);
  };

  const issue = (user: string | undefined, scopes: string[], offline: boolean) => {
    const token = mintToken({ ...(user !== undefined ? { user } : {}), access: grantedAccess(user, scopes) });
    let refresh: string | undefined;
    if (offline && user !== undefined) {
      refresh = randomBytes(24).toString('base64url');
      refreshTokens.set(refresh, user);
    }
    return { token, refresh, expires_in: ttl, issued_at: new Date().toISOString() };
  };

  const refuse = (res: ServerResponse, status: number, message: string): void =>
    sendJson(
      res,
      status,
      { errors: [{ code: status === 401 ? 'UNAUTHORIZED' : 'DENIED', message }], error: message },
      status === 401 ? { 'www-authenticate': `Basic realm="${issuer}"` } : {},
    );

  const handleGet = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void => {
    const scope = parseScopes(query.getAll('scope'));
    const log: TokenRequest = { method: 'GET', scope: scope.join(' '), user: undefined, status: 200 };
    requests.push(log);
    const creds = basicUser(req);
    if (query.get('service') && query.get('service') !== service) {
      log.status = 400;
      return refuse(res, 400, `unknown service ${query.get('service')}`);
    }
    if (creds && opts.users[creds.user] !== creds.password) {
      log.status = 401;
      return refuse(res, 401, 'invalid username or password');
    }
    log.user = creds?.user;
    const t = issue(creds?.user, scope, query.get('offline_token') === 'true');
    // `token` and `access_token` both: clients differ in which one they read.
    sendJson(res, 200, {
      token: t.token,
      access_token: t.token,
      expires_in: t.expires_in,
      issued_at: t.issued_at,
      ...(t.refresh ? { refresh_token: t.refresh } : {}),
    });
  };

  const handlePost = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const form = new URLSearchParams(await readBody(req));
    const grantType = form.get('grant_type') ?? '';
    const scope = parseScopes(form.getAll('scope'));
    const log: TokenRequest = { method: 'POST', scope: scope.join(' '), user: undefined, grantType, status: 200 };
    requests.push(log);
    if (form.get('service') && form.get('service') !== service) {
      log.status = 400;
      return refuse(res, 400, `unknown service ${form.get('service')}`);
    }
    let user: string | undefined;
    let refresh: string | undefined;
    if (grantType === 'password') {
      const name = form.get('username') ?? '';
      if (opts.users[name] === undefined || opts.users[name] !== form.get('password')) {
        log.status = 401;
        return refuse(res, 401, 'invalid username or password');
      }
      user = name;
    } else if (grantType === 'refresh_token') {
      refresh = form.get('refresh_token') ?? '';
      user = refreshTokens.get(refresh);
      if (user === undefined) {
        log.status = 400;
        return sendJson(res, 400, { error: 'invalid_grant', error_description: 'unknown refresh token' });
      }
    } else {
      log.status = 400;
      return sendJson(res, 400, { error: 'unsupported_grant_type' });
    }
    log.user = user;
    const t = issue(user, scope, form.get('access_type') === 'offline' && refresh === undefined);
    sendJson(res, 200, {
      access_token: t.token,
      scope: scope.join(' '),
      expires_in: t.expires_in,
      issued_at: t.issued_at,
      ...((t.refresh ?? refresh) ? { refresh_token: t.refresh ?? refresh } : {}),
    });
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    const done = (err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      else res.destroy();
    };
    if (url.pathname !== '/token') return sendJson(res, 404, { error: 'not found' });
    if (req.method === 'GET') {
      try {
        handleGet(req, res, url.searchParams);
      } catch (err) {
        done(err);
      }
    } else if (req.method === 'POST') {
      handlePost(req, res).catch(done);
    } else {
      sendJson(res, 405, { error: 'method not allowed' });
    }
  };

  let server: Server;
  if (opts.tls) {
    const cert = await issueServerCert(opts.tls, { dir: tmp.dir, name: 'token-server' });
    server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, handler);
  } else {
    server = createHttpServer(handler);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    url,
    realm: `${url}/token`,
    service,
    issuer,
    certFile: signing.certFile,
    requests,
    mintToken,
    stop() {
      stopped ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await tmp.cleanup();
      })();
      return stopped;
    },
  };
}
