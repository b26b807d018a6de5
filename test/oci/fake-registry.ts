// Fake registries for the OCI client's HTTP tests: node:http servers on
// 127.0.0.1 (port 0) that record every request (method, path, headers, body)
// and answer with whatever the test's handler says, plus a small in-memory
// upload endpoint for the blob-upload tests.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryClient, type RegistryClientOptions } from '../../src/oci/client.js';

export interface Recorded {
  method: string;
  /** Path and query exactly as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Handler = (req: Recorded, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

export interface FakeServer {
  port: number;
  /** `127.0.0.1:PORT`, as a registry is named in a reference. */
  host: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  requests: Recorded[];
  /** How many recorded requests match. */
  count(pred?: (r: Recorded) => boolean): number;
  close(): Promise<void>;
}

/** A server that records each request (body read in full) and hands it to `handler`. */
export async function startServer(handler: Handler, listenHost = '127.0.0.1'): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const url = new URL(raw.url ?? '/', 'http://fake');
      const rec: Recorded = {
        method: raw.method ?? 'GET',
        url: raw.url ?? '/',
        path: url.pathname,
        query: url.searchParams,
        headers: raw.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(rec);
      Promise.resolve()
        .then(() => handler(rec, res, raw))
        .catch((err: unknown) => {
          if (!res.headersSent) res.writeHead(599, { 'content-type': 'text/plain' });
          res.end(`fake server handler failed: ${String(err)}`);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host: `127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    requests,
    count: (pred) => (pred ? requests.filter(pred).length : requests.length),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function errorBody(
  code: string,
  message = code.toLowerCase().replace(/_/g, ' '),
): { errors: Array<{ code: string; message: string }> } {
  return { errors: [{ code, message }] };
}

export function send(res: ServerResponse, status: number, body: string | Buffer = '', headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export const sha256 = (data: Uint8Array | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A client for plain-HTTP fake registries (retries: 2, 5 s timeouts); close it when done. */
export async function makeClient(opts: RegistryClientOptions = {}): Promise<RegistryClient> {
  return RegistryClient.create({ plainHttp: true, retries: 2, timeoutMs: 5_000, ...opts });
}

type Coded = Error & { code?: string; hint?: string; status?: number };

/** The rejection of `p` (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Coded> {
  try {
    await p;
  } catch (err) {
    return err as Coded;
  }
  assert.fail('expected a rejection');
}

/** Rejects with a chartprov error of `code`, whose message matches `message` when given. */
export async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<Coded> {
  const err = await rejection(p);
  assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
  if (message) assert.match(err.message, message);
  return err;
}

/** None of `secrets` appears in what an error shows: message, hint, JSON, string form, stack. */
export function assertNoSecrets(err: Coded, secrets: readonly string[]): void {
  const shown = [err.message, err.hint ?? '', String(err), JSON.stringify(err), err.stack ?? ''].join('\n');
  for (const s of secrets) assert.ok(!shown.includes(s), `secret ${JSON.stringify(s)} leaked: ${shown}`);
}

export interface UploadSession {
  id: string;
  data: Buffer[];
}

export interface UploadRegistryOptions {
  /** Blobs the registry already holds, by `repository@digest`. */
  blobs?: Map<string, Buffer>;
  /** Extra query put into every upload Location (`_state=…`), to check it survives. */
  stateQuery?: string;
  /** Answer Locations as absolute URLs instead of paths. */
  absoluteLocation?: boolean;
  /** Whether a mount from a repository holding the blob succeeds (201; default) or opens an upload (202). */
  mountable?: (from: string, digest: string) => boolean;
  /** Answer the final PUT with 400 DIGEST_INVALID whatever was sent. */
  refuseDigest?: boolean;
  /** Store a blob sent whole with the POST ?digest= that opens an upload (201), as the spec allows. */
  singlePost?: boolean;
}

/**
 * The upload half of the distribution spec, in memory: HEAD blobs, POST
 * (with mount), PATCH (appending, checking Content-Range), PUT ?digest=.
 */
export function uploadRegistry(opts: UploadRegistryOptions = {}): { handler: Handler; blobs: Map<string, Buffer> } {
  const blobs = opts.blobs ?? new Map<string, Buffer>();
  const sessions = new Map<string, UploadSession>();
  let origin = '';
  const location = (name: string, id: string): string => {
    const path = `/v2/${name}/blobs/uploads/${id}${opts.stateQuery ? `?${opts.stateQuery}` : ''}`;
    return opts.absoluteLocation ? `${origin}${path}` : path;
  };
  const handler: Handler = (req, res, raw) => {
    origin ||= `http://${raw.headers.host}`;
    let m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.path);
    if (m && (req.method === 'HEAD' || req.method === 'GET')) {
      const blob = blobs.get(`${m[1]}@${m[2]}`);
      if (!blob) return json(res, 404, errorBody('BLOB_UNKNOWN'));
      res.writeHead(200, { 'content-length': blob.length, 'docker-content-digest': m[2]! });
      res.end(req.method === 'GET' ? blob : undefined);
      return;
    }
    m = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(req.path);
    if (m && req.method === 'POST') {
      const name = m[1]!;
      const mount = req.query.get('mount');
      const from = req.query.get('from');
      if (mount && from && blobs.has(`${from}@${mount}`) && (opts.mountable?.(from, mount) ?? true)) {
        blobs.set(`${name}@${mount}`, blobs.get(`${from}@${mount}`)!);
        return send(res, 201, '', { location: `/v2/${name}/blobs/${mount}`, 'docker-content-digest': mount });
      }
      const whole = req.query.get('digest');
      if (opts.singlePost && whole && req.body.length > 0) {
        if (sha256(req.body) !== whole) return json(res, 400, errorBody('DIGEST_INVALID'));
        blobs.set(`${name}@${whole}`, req.body);
        return send(res, 201, '', { location: `/v2/${name}/blobs/${whole}`, 'docker-content-digest': whole });
      }
      const id = randomUUID();
      sessions.set(id, { id, data: [] });
      return send(res, 202, '', { location: location(name, id), range: '0-0', 'docker-upload-uuid': id });
    }
    m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/.exec(req.path);
    if (m) {
      const session = sessions.get(m[2]!);
      if (!session) return json(res, 404, errorBody('BLOB_UPLOAD_UNKNOWN'));
      const have = session.data.reduce((n, b) => n + b.length, 0);
      if (req.method === 'PATCH') {
        const range = req.headers['content-range'];
        if (range !== undefined) {
          const [start, end] = range.split('-').map(Number);
          if (start !== have || end !== have + req.body.length - 1) {
            return send(res, 416, '', { range: `0-${have - 1}` });
          }
        }
        session.data.push(req.body);
        return send(res, 202, '', { location: location(m[1]!, session.id), range: `0-${have + req.body.length - 1}` });
      }
      if (req.method === 'PUT') {
        session.data.push(req.body);
        const blob = Buffer.concat(session.data);
        const digest = req.query.get('digest');
        if (opts.refuseDigest || digest !== sha256(blob)) {
          return json(res, 400, errorBody('DIGEST_INVALID', 'provided digest did not match uploaded content'));
        }
        sessions.delete(session.id);
        blobs.set(`${m[1]}@${digest}`, blob);
        return send(res, 201, '', { location: `/v2/${m[1]}/blobs/${digest}`, 'docker-content-digest': digest });
      }
    }
    json(res, 404, errorBody('UNSUPPORTED', `${req.method} ${req.path}`));
  };
  return { handler, blobs };
}
