import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RegistryStorage } from '../storage/index.js';

/** One request as the routes see it. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  storage: RegistryStorage;
  limits: RegistryLimits;
  /** Whether the caller may read `repo` (a mount from a repository it cannot read is no mount). */
  canPull(repo: string): boolean;
}

export interface RegistryLimits {
  /** Largest blob an upload may grow to; undefined = only the disk limits it. */
  maxBlobBytes?: number;
  /** Largest manifest PUT body (distribution's default is 4 MiB). */
  maxManifestBytes: number;
}

/** Sends a response without a body (Content-Length: 0 unless given). */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Length': '0', ...headers });
  res.end();
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}, head = false): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers, 'Content-Length': String(body.length) });
  res.end(head ? undefined : body);
}

/** True when the request carries a body (a non-zero Content-Length or chunked encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return len.trim() !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** `?n=` and `?last=` of the paginated lists: the page and, if more follow, the `last` for the next one. */
export function paginate(all: string[], url: URL): { page: string[]; next?: { n: number; last: string } } {
  const last = url.searchParams.get('last');
  let items = last === null ? all : all.filter((x) => x > last);
  const nText = url.searchParams.get('n');
  if (nText === null || nText === '') return { page: items };
  const n = Number(nText);
  if (!Number.isInteger(n) || n < 0) return { page: items };
  const page = items.slice(0, n);
  items = items.slice(n);
  if (items.length > 0 && page.length > 0) return { page, next: { n, last: page[page.length - 1]! } };
  return { page };
}

/**
 * A small request body read whole, refused with `tooLarge()` past `limit`
 * bytes (also when Content-Length says so up front); the rest is drained so
 * the connection stays usable for the error response and the next request.
 */
export async function readBodyLimited(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? '0') > limit) {
    req.resume();
    throw tooLarge();
  }
  // Listeners, not `for await (… of req)`: leaving that loop early destroys the request
  // unread, and its keep-alive connection then hangs on the next request.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return; // draining
      size += chunk.length;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        reject(tooLarge());
      } else chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('close', () => reject(new Error('request closed before its body ended')));
  });
}

/**
 * Reads and discards the rest of a request body, so that an error response
 * goes out on a connection that can carry the next request.
 */
export function drainBody(req: IncomingMessage): void {
  if (req.readableEnded || req.destroyed) return;
  req.resume();
  // An async iterator that has just let go of the stream takes its 'readable' listener off
  // on the next tick, and until then resume() cannot make the stream flow: resume again then.
  process.nextTick(() => req.resume());
}
