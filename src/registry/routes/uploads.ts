/**
 * Blob uploads: `POST /v2/<name>/blobs/uploads/` (open, monolithic, mount)
 * and `PATCH|PUT|GET|DELETE /v2/<name>/blobs/uploads/<id>`. Bodies stream
 * straight into storage.
 */
import { isDigest } from '../../oci/digest.js';
import { UploadOffsetError } from '../storage/index.js';
import { HttpError, uploadRange } from './errors.js';
import { hasBody, sendEmpty, type RouteContext } from './context.js';
import { methodNotAllowed } from './blobs.js';

function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

function blobCreated(ctx: RouteContext, name: string, digest: string): void {
  sendEmpty(ctx.res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

function uploadAccepted(ctx: RouteContext, name: string, id: string, size: number, status = 202): void {
  sendEmpty(ctx.res, status, { Location: uploadLocation(name, id), Range: uploadRange(size), 'Docker-Upload-UUID': id });
}

function checkDigestParam(digest: string | null): string {
  if (digest === null || !isDigest(digest))
    throw new HttpError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', { digest: digest?.slice(0, 200) ?? null });
  return digest;
}

export async function startUploadRoute(ctx: RouteContext, name: string): Promise<void> {
  const { req, url, storage } = ctx;
  if (req.method !== 'POST') throw methodNotAllowed('POST');
  const mount = url.searchParams.get('mount');
  const from = url.searchParams.get('from');
  if (mount !== null && from !== null && isDigest(mount)) {
    let linked = false;
    try {
      linked = ctx.canPull(from) && (await storage.isLinked(from, mount)) && (await storage.statBlob(mount)) !== undefined;
    } catch {
      linked = false; // an invalid `from` just means no mount
    }
    if (linked) {
      await storage.linkBlob(name, mount);
      req.resume();
      blobCreated(ctx, name, mount);
      return;
    }
  }
  const digestParam = url.searchParams.get('digest');
  if (digestParam !== null) {
    const digest = checkDigestParam(digestParam);
    await storage.putBlob(name, digest, hasBody(req) ? req : undefined, ctx.limits.maxBlobBytes);
    blobCreated(ctx, name, digest);
    return;
  }
  const id = await storage.createUpload(name);
  req.resume();
  uploadAccepted(ctx, name, id, 0);
}

/** `Content-Range: start-end` (or `bytes start-end/total`) → start. */
function chunkStart(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m) throw new HttpError(416, 'BLOB_UPLOAD_INVALID', 'invalid Content-Range', { contentRange: header.slice(0, 100) });
  const start = Number(m[1]);
  if (Number(m[2]) < start)
    throw new HttpError(416, 'BLOB_UPLOAD_INVALID', 'invalid Content-Range', { contentRange: header.slice(0, 100) });
  return start;
}

export async function uploadRoute(ctx: RouteContext, name: string, id: string): Promise<void> {
  const { req, url, storage } = ctx;
  switch (req.method) {
    case 'PATCH': {
      const offset = chunkStart(req.headers['content-range']);
      // Check before handing the body to storage, so the 416 goes out on a connection still intact.
      const current = await storage.uploadSize(name, id);
      if (current === undefined) throw uploadUnknown(id);
      if (offset !== undefined && offset !== current) throw new UploadOffsetError(current, offset);
      const size = await storage.appendUpload(name, id, req, {
        ...(offset === undefined ? {} : { offset }),
        ...(ctx.limits.maxBlobBytes === undefined ? {} : { maxBytes: ctx.limits.maxBlobBytes }),
      });
      uploadAccepted(ctx, name, id, size);
      return;
    }
    case 'PUT': {
      const digest = checkDigestParam(url.searchParams.get('digest'));
      // Before the body goes to storage, so the 404 reaches a client still sending.
      if ((await storage.uploadSize(name, id)) === undefined) throw uploadUnknown(id);
      await storage.commitUpload(name, id, digest, hasBody(req) ? req : undefined, ctx.limits.maxBlobBytes);
      blobCreated(ctx, name, digest);
      return;
    }
    case 'GET': {
      const size = await storage.uploadSize(name, id);
      if (size === undefined) throw uploadUnknown(id);
      uploadAccepted(ctx, name, id, size, 204);
      return;
    }
    case 'DELETE':
      await storage.cancelUpload(name, id);
      sendEmpty(ctx.res, 204);
      return;
    default:
      throw methodNotAllowed('PATCH, PUT, GET, DELETE');
  }
}

function uploadUnknown(id: string): HttpError {
  return new HttpError(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { upload: id.slice(0, 100) });
}
