/**
 * The embedded registry's HTTP layer (OCI distribution-spec v1.1, no auth
 * yet) on node:http, over a filesystem RegistryStorage. Request bodies are
 * streamed into storage; blobs are never held in memory.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFilesystemStorage, type RegistryStorage } from './storage/index.js';
import { checkRepoName } from './storage/names.js';
import { blobRoute, methodNotAllowed } from './routes/blobs.js';
import type { RouteContext } from './routes/context.js';
import { HttpError, sendError, toHttpError } from './routes/errors.js';
import { manifestRoute, referrersRoute } from './routes/manifests.js';
import { catalogRoute, tagsRoute } from './routes/tags.js';
import { startUploadRoute, uploadRoute } from './routes/uploads.js';

export interface StartRegistryOptions {
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  dataDir: string;
  /** One line per request: method path status ms. */
  log?: (line: string) => void;
}

export interface RunningRegistry {
  /** `http://host:port` */
  url: string;
  /** `host:port`, as written in an oci:// reference. */
  host: string;
  port: number;
  close(): Promise<void>;
}

const API_VERSION = { 'Docker-Distribution-API-Version': 'registry/2.0' };

export async function startRegistry(opts: StartRegistryOptions): Promise<RunningRegistry> {
  const storage = await createFilesystemStorage(opts.dataDir);
  const bindHost = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => void handle(storage, req, res, opts.log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  const host = `${hostPart}:${port}`;
  return {
    url: `http://${host}`,
    host,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(storage: RegistryStorage, req: IncomingMessage, res: ServerResponse, log?: (line: string) => void): Promise<void> {
  const started = process.hrtime.bigint();
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://registry.invalid');
  } catch {
    url = new URL('http://registry.invalid/');
  }
  if (log) {
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log(`${req.method} ${url.pathname} ${res.statusCode} ${ms.toFixed(1)}ms`);
    });
  }
  for (const [k, v] of Object.entries(API_VERSION)) res.setHeader(k, v);
  try {
    await route({ req, res, url, storage });
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A body the route did not read must be drained for the connection to stay usable.
    if (!req.readableEnded) req.resume();
    sendError(res, toHttpError(err), req.method === 'HEAD');
  }
}

const UPLOADS_START = /^(.+)\/blobs\/uploads\/?$/;
const UPLOAD = /^(.+)\/blobs\/uploads\/([^/]+)$/;
const BLOB = /^(.+)\/blobs\/([^/]+)$/;
const MANIFEST = /^(.+)\/manifests\/([^/]+)$/;
const TAGS = /^(.+)\/tags\/list$/;
const REFERRERS = /^(.+)\/referrers\/([^/]+)$/;

async function route(ctx: RouteContext): Promise<void> {
  const path = ctx.url.pathname;
  if (path === '/v2/' || path === '/v2') {
    if (ctx.req.method !== 'GET' && ctx.req.method !== 'HEAD') throw methodNotAllowed('GET, HEAD');
    ctx.req.resume();
    ctx.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '2' });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : '{}');
    return;
  }
  if (!path.startsWith('/v2/')) throw new HttpError(404, 'NOT_FOUND', 'not found');
  let rest: string;
  try {
    rest = decodeURIComponent(path.slice(4));
  } catch {
    throw new HttpError(404, 'NOT_FOUND', 'not found');
  }
  if (rest === '_catalog') return catalogRoute(ctx);
  let m: RegExpExecArray | null;
  if ((m = UPLOADS_START.exec(rest))) return startUploadRoute(ctx, repo(m[1]!));
  if ((m = UPLOAD.exec(rest))) return uploadRoute(ctx, repo(m[1]!), m[2]!);
  if ((m = BLOB.exec(rest))) return blobRoute(ctx, repo(m[1]!), m[2]!);
  if ((m = MANIFEST.exec(rest))) return manifestRoute(ctx, repo(m[1]!), m[2]!);
  if ((m = TAGS.exec(rest))) return tagsRoute(ctx, repo(m[1]!));
  if ((m = REFERRERS.exec(rest))) return referrersRoute(ctx, repo(m[1]!), m[2]!);
  throw new HttpError(404, 'NOT_FOUND', 'not found');
}

function repo(name: string): string {
  return checkRepoName(name);
}
