/**
 * The embedded registry's HTTP layer (OCI distribution-spec v1.1) on
 * node:http(s), over a filesystem RegistryStorage, with Harbor's access model
 * (projects, users, robots, a token service). Request bodies are streamed
 * into storage; blobs are never held in memory.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { chmod, stat } from 'node:fs/promises';
import { acquireDataLock, createFilesystemStorage, removeInterruptedWrites, type RegistryStorage } from './storage/index.js';
import { checkRepoName } from './storage/names.js';
import { INITIAL_ADMIN } from './auth/accounts.js';
import { AccessControl, type Caller } from './auth/control.js';
import type { LoginLimits } from './auth/login-limiter.js';
import type { RegistryAction } from './auth/model.js';
import type { TokenSettings } from './auth/tokens.js';
import { authorize, type RegistryRequest } from './guard.js';
import { harborApiRoute } from './harbor/api.js';
import { blobRoute, methodNotAllowed } from './routes/blobs.js';
import { drainBody, type RegistryLimits, type RouteContext } from './routes/context.js';
import { HttpError, sendError, toHttpError } from './routes/errors.js';
import { MANIFEST_MAX_BYTES, manifestRoute, referrersRoute } from './routes/manifests.js';
import { catalogRoute, tagsRoute } from './routes/tags.js';
import { tokenRoute } from './routes/token.js';
import { startUploadRoute, uploadRoute } from './routes/uploads.js';
import { createWebUi, isUiPath, type WebUi, type WebUiOptions } from './ui/router.js';

export interface StartRegistryOptions {
  /** Interface to bind (default 127.0.0.1: loopback only). */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  dataDir: string;
  /**
   * `harbor` (default): repositories live in projects; users, robots and
   * tokens decide who may pull and push. `none`: anyone may do anything
   * (throwaway registries in tests).
   */
  auth?: 'harbor' | 'none';
  /** Password of the initial `admin`, used only when the registry has no user yet; generated when absent. */
  adminPassword?: string;
  /** Token `service`/`iss`/lifetime. */
  tokens?: Partial<TokenSettings>;
  loginLimits?: LoginLimits;
  /** Base URL clients reach the server at (for the token realm) when it is behind a proxy. */
  externalUrl?: string;
  /** PEM certificate (chain) and key: serve HTTPS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  limits?: Partial<RegistryLimits>;
  /** One line per request: method path status ms (never headers or query strings). */
  log?: (line: string) => void;
  /** The web UI under /ui/ (with `auth: 'harbor'`): the keyring it verifies signatures against; sessions' limits and clock for tests. */
  ui?: Pick<WebUiOptions, 'keyring' | 'sessions' | 'clock'>;
}

export interface RunningRegistry {
  /** `http(s)://host:port` */
  url: string;
  /** `host:port`, as written in an oci:// reference. */
  host: string;
  port: number;
  /** Set when this start created the first admin; `password` only when it was generated here. */
  initialAdmin?: { name: string; password?: string };
  /** The certificate of the token signing key (for another registry's `auth.token.rootcertbundle`). */
  tokenCertificateFile?: string;
  /** Accounts and tokens, for the library caller (`demo`, tests); undefined with `auth: 'none'`. */
  access?: AccessControl;
  close(): Promise<void>;
}

const API_VERSION = { 'Docker-Distribution-API-Version': 'registry/2.0' };

interface ServerState {
  storage: RegistryStorage;
  access?: AccessControl;
  limits: RegistryLimits;
  externalUrl?: string;
  scheme: 'http' | 'https';
  log?: (line: string) => void;
  ui?: WebUi;
}

export async function startRegistry(opts: StartRegistryOptions): Promise<RunningRegistry> {
  // One server per data folder, and no gc while it serves (REGISTRY_DATA_LOCKED otherwise).
  const lock = await acquireDataLock(opts.dataDir, 'registry server');
  try {
    return await start(opts, () => lock.release());
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/**
 * The data folder holds password hashes, the token signing key and every
 * project's content: one the operator made beforehand with a looser mode
 * (mkdir under umask 022) is made 0700, as the registry makes its own, and
 * said so. Someone else's folder is left as it is.
 */
async function makeDataPrivate(dataDir: string, log: ((line: string) => void) | undefined): Promise<void> {
  const st = await stat(dataDir);
  if ((st.mode & 0o077) === 0 || (typeof process.getuid === 'function' && st.uid !== process.getuid())) return;
  await chmod(dataDir, 0o700);
  log?.(`data folder ${dataDir} was ${(st.mode & 0o777).toString(8).padStart(4, '0')}: made 0700`);
}

async function start(opts: StartRegistryOptions, release: () => Promise<void>): Promise<RunningRegistry> {
  await makeDataPrivate(opts.dataDir, opts.log);
  const storage = await createFilesystemStorage(opts.dataDir);
  let access: AccessControl | undefined;
  let initialAdmin: RunningRegistry['initialAdmin'];
  if ((opts.auth ?? 'harbor') === 'harbor') {
    access = await AccessControl.open({
      dataDir: opts.dataDir,
      ...(opts.tokens ? { tokens: opts.tokens } : {}),
      ...(opts.loginLimits ? { loginLimits: opts.loginLimits } : {}),
    });
    const admin = await access.accounts.ensureInitialAdmin(opts.adminPassword);
    if (admin.created) initialAdmin = { name: INITIAL_ADMIN, ...(admin.generatedPassword ? { password: admin.generatedPassword } : {}) };
  }
  const state: ServerState = {
    storage,
    ...(access ? { access } : {}),
    limits: {
      maxManifestBytes: opts.limits?.maxManifestBytes ?? MANIFEST_MAX_BYTES,
      ...(opts.limits?.maxBlobBytes === undefined ? {} : { maxBlobBytes: opts.limits.maxBlobBytes }),
    },
    ...(opts.externalUrl ? { externalUrl: opts.externalUrl.replace(/\/+$/, '') } : {}),
    scheme: opts.tls ? 'https' : 'http',
    ...(opts.log ? { log: opts.log } : {}),
  };
  if (access)
    state.ui = await createWebUi({ ...opts.ui, access, storage, scheme: state.scheme, externalUrl: state.externalUrl, log: opts.log });
  const onRequest = (req: IncomingMessage, res: ServerResponse) => void handle(state, req, res);
  // No limit on a whole request: a 1 GiB layer over a slow link takes long (Node's default
  // requestTimeout of 5 minutes cut such uploads off). Slow or stalled peers are handled
  // by the header timeout and by closing a socket idle for two minutes.
  const serverOptions = { requestTimeout: 0, headersTimeout: 60_000 };
  const server: Server = opts.tls
    ? createHttpsServer({ ...serverOptions, cert: opts.tls.cert, key: opts.tls.key }, onRequest)
    : createHttpServer(serverOptions, onRequest);
  server.timeout = 120_000;
  const bindHost = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // In the background: on a large store the walk takes a while, and nothing reads temp files meanwhile.
  let closing = false;
  const sweeping = removeInterruptedWrites(opts.dataDir, () => closing).catch(() => 0);
  const port = (server.address() as AddressInfo).port;
  const hostPart = bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  const host = `${hostPart}:${port}`;
  return {
    url: `${state.scheme}://${host}`,
    host,
    port,
    ...(initialAdmin ? { initialAdmin } : {}),
    ...(access ? { access, tokenCertificateFile: access.signingKey.certificateFile } : {}),
    close: async () => {
      try {
        await new Promise<void>((resolve, reject) => {
          server.close((err) => (err ? reject(err) : resolve()));
          server.closeAllConnections();
        });
      } finally {
        closing = true;
        await sweeping;
        await release();
      }
    },
  };
}

async function handle(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = process.hrtime.bigint();
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://registry.invalid');
  } catch {
    url = new URL('http://registry.invalid/');
  }
  if (state.log) {
    const log = state.log;
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log(`${req.method} ${url.pathname} ${res.statusCode} ${ms.toFixed(1)}ms`);
    });
  }
  for (const [k, v] of Object.entries(API_VERSION)) res.setHeader(k, v);
  try {
    await route(state, req, res, url);
  } catch (err) {
    const httpError = toHttpError(err);
    // The cause of a 500 is for the operator (the client only gets "internal error").
    if (httpError.status >= 500 && state.log) state.log(`${req.method} ${url.pathname} failed: ${describeInternal(err)}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A body the route did not read must be drained for the connection to stay usable.
    drainBody(req);
    sendError(res, httpError, req.method === 'HEAD');
  }
}

const UPLOADS_START = /^(.+)\/blobs\/uploads\/?$/;
const UPLOAD = /^(.+)\/blobs\/uploads\/([^/]+)$/;
const BLOB = /^(.+)\/blobs\/([^/]+)$/;
const MANIFEST = /^(.+)\/manifests\/([^/]+)$/;
const TAGS = /^(.+)\/tags\/list$/;
const REFERRERS = /^(.+)\/referrers\/([^/]+)$/;

/** Which action a request on a repository needs. */
function actionFor(method: string | undefined, kind: 'upload' | 'blob' | 'manifest' | 'read'): RegistryAction {
  if (method === 'DELETE') return kind === 'upload' ? 'push' : 'delete';
  if (kind === 'upload') return 'push';
  return method === 'PUT' ? 'push' : 'pull';
}

/** The parsed form of a `/v2/…` path, before access is checked. */
function parseV2(path: string, method: string | undefined): { request: RegistryRequest; run: (ctx: RouteContext) => Promise<void> } {
  if (path === '/v2/' || path === '/v2') return { request: { kind: 'base' }, run: baseRoute };
  // An encoded slash is data, not a separator (RFC 3986): decoding it into one would let
  // /v2/priv%2Fapp/… reach priv/app past a front proxy that filters on the raw path.
  // No repository name, tag, digest or upload id holds a slash, so it is simply refused.
  if (/%2f/i.test(path))
    throw new HttpError(400, 'NAME_INVALID', 'invalid repository name: an encoded slash (%2F) is not a path separator');
  let rest: string;
  try {
    rest = decodeURIComponent(path.slice(4));
  } catch {
    throw new HttpError(404, 'NOT_FOUND', 'not found');
  }
  if (rest === '_catalog') return { request: { kind: 'catalog' }, run: catalogRoute };
  const on = (name: string, kind: 'upload' | 'blob' | 'manifest' | 'read', run: (ctx: RouteContext, repo: string) => Promise<void>) => {
    const repo = checkRepoName(name);
    return {
      request: { kind: 'repository' as const, repository: repo, action: actionFor(method, kind) },
      run: (ctx: RouteContext) => run(ctx, repo),
    };
  };
  let m: RegExpExecArray | null;
  if ((m = UPLOADS_START.exec(rest))) return on(m[1]!, 'upload', startUploadRoute);
  if ((m = UPLOAD.exec(rest))) {
    const id = m[2]!;
    return on(m[1]!, 'upload', (ctx, repo) => uploadRoute(ctx, repo, id));
  }
  if ((m = BLOB.exec(rest))) {
    const digest = m[2]!;
    return on(m[1]!, 'blob', (ctx, repo) => blobRoute(ctx, repo, digest));
  }
  if ((m = MANIFEST.exec(rest))) {
    const reference = m[2]!;
    return on(m[1]!, 'manifest', (ctx, repo) => manifestRoute(ctx, repo, reference));
  }
  if ((m = TAGS.exec(rest))) return on(m[1]!, 'read', tagsRoute);
  if ((m = REFERRERS.exec(rest))) {
    const digest = m[2]!;
    return on(m[1]!, 'read', (ctx, repo) => referrersRoute(ctx, repo, digest));
  }
  throw new HttpError(404, 'NOT_FOUND', 'not found');
}

async function route(state: ServerState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname;
  const base = { req, res, url, storage: state.storage, limits: state.limits };
  const access = state.access;
  if (state.ui && isUiPath(path)) return state.ui.handle(req, res, url);
  if (path === '/service/token') {
    if (!access) throw new HttpError(404, 'NOT_FOUND', 'this registry has no token service (started without auth)');
    return tokenRoute({ ...base, canPull: () => false }, access);
  }
  if (path.startsWith('/api/')) {
    if (!access) throw new HttpError(404, 'NOT_FOUND', 'this registry has no API (started without auth)');
    const caller = await access.caller(req);
    return harborApiRoute({ ...base, canPull: (repo) => access.permits(caller, repo, 'pull'), access, caller });
  }
  if (!path.startsWith('/v2/') && path !== '/v2') throw new HttpError(404, 'NOT_FOUND', 'not found');
  // The URL parser folds `..`, `%2e%2e` and `\\` into another path: refuse what a front proxy saw differently.
  if ((req.url ?? '/').split('?', 1)[0] !== path) throw new HttpError(400, 'NAME_INVALID', 'the path is not in normal form');
  const { request, run } = parseV2(path, req.method);
  let caller: Caller | undefined;
  if (access) caller = await authorize(access, req, request, realmOf(state, req));
  return run({ ...base, canPull: (repo) => !access || access.permits(caller!, repo, 'pull') });
}

async function baseRoute(ctx: RouteContext): Promise<void> {
  if (ctx.req.method !== 'GET' && ctx.req.method !== 'HEAD') throw methodNotAllowed('GET, HEAD');
  ctx.req.resume();
  ctx.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '2' });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : '{}');
}

/** Token endpoint URL for the challenge: the configured external URL, else the Host the client used. */
function realmOf(state: ServerState, req: IncomingMessage): string {
  if (state.externalUrl) return `${state.externalUrl}/service/token`;
  const host = req.headers.host && /^[A-Za-z0-9.\-:[\]]+$/.test(req.headers.host) ? req.headers.host : 'localhost';
  return `${state.scheme}://${host}/service/token`;
}

function describeInternal(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  return `${code}${typeof e?.message === 'string' ? e.message.split('\n')[0] : String(err)}`;
}
