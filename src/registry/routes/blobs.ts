/** `HEAD|GET|DELETE /v2/<name>/blobs/<digest>`: only blobs linked into <name>, with byte ranges. */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobUnknownError, type BlobRead, type ByteRange, type RegistryStorage } from '../storage/index.js';
import { isDigest } from '../../oci/digest.js';
import { HttpError } from './errors.js';
import { type RouteContext } from './context.js';

export async function blobRoute(ctx: RouteContext, name: string, digest: string): Promise<void> {
  const { req, res, storage } = ctx;
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD' && method !== 'DELETE') throw methodNotAllowed('GET, HEAD, DELETE');
  if (!isDigest(digest)) throw new HttpError(400, 'DIGEST_INVALID', 'invalid digest', { digest: digest.slice(0, 200) });
  if (!(await storage.isLinked(name, digest))) throw blobUnknown(digest);
  if (method === 'DELETE') {
    // As distribution: the repository lets go of the blob; its bytes go at the next gc if nothing else holds them.
    req.resume();
    await storage.unlinkBlob(name, digest);
    res.writeHead(202, { 'Content-Length': '0', 'Docker-Content-Digest': digest });
    res.end();
    return;
  }
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
  };
  if (method === 'HEAD') {
    const size = await storage.statBlob(digest);
    if (size === undefined) throw blobUnknown(digest);
    res.writeHead(200, { ...headers, 'Content-Length': String(size) });
    res.end();
    return;
  }
  const rangeHeader = req.headers.range;
  if (rangeHeader !== undefined) {
    const size = await storage.statBlob(digest);
    if (size === undefined) throw blobUnknown(digest);
    const range = parseRange(rangeHeader, size);
    const { body } = await readOrUnknown(storage, digest, range);
    res.writeHead(206, {
      ...headers,
      'Content-Length': String(range.end - range.start + 1),
      'Content-Range': `bytes ${range.start}-${range.end}/${size}`,
    });
    await send(res, body);
    return;
  }
  const { size, body } = await readOrUnknown(storage, digest);
  res.writeHead(200, { ...headers, 'Content-Length': String(size) });
  await send(res, body);
}

async function readOrUnknown(storage: RegistryStorage, digest: string, range?: ByteRange): Promise<BlobRead> {
  try {
    return await storage.readBlob(digest, range);
  } catch (err) {
    // Linked but gone from the store: as distribution, unknown (gc or check finds out why).
    if (err instanceof BlobUnknownError) throw blobUnknown(digest);
    throw err;
  }
}

/** A small blob in one write; a large one streamed (the pipeline closes the file on a client gone away). */
async function send(res: ServerResponse, body: Buffer | Readable): Promise<void> {
  if (Buffer.isBuffer(body)) res.end(body);
  else await pipeline(body, res);
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` within a blob of `size` bytes; anything else is 416. */
export function parseRange(header: string, size: number): { start: number; end: number } {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const bad = () =>
    new HttpError(416, 'RANGE_NOT_SATISFIABLE', `range not satisfiable: ${header.slice(0, 100)}`, undefined, {
      'Content-Range': `bytes */${size}`,
    });
  if (!m || (m[1] === '' && m[2] === '')) throw bad();
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw bad();
    start = Math.max(size - suffix, 0);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start >= size || start > end) throw bad();
  return { start, end };
}

export function blobUnknown(digest: string): HttpError {
  return new HttpError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', { digest });
}

export function methodNotAllowed(allow: string): HttpError {
  return new HttpError(405, 'UNSUPPORTED', 'the operation is unsupported', undefined, { Allow: allow });
}
