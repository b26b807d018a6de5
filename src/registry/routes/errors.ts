/**
 * Distribution-spec error responses: `{"errors":[{code,message,detail}]}`
 * with the status docker-registry uses for each code.
 */
import type { ServerResponse } from 'node:http';
import { RangeNotSatisfiableError, StorageError, UploadOffsetError, UploadTooLargeError } from '../storage/index.js';
import { isOutOfSpace } from '../storage/files.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const STATUS: Record<string, number> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  TAG_INVALID: 400,
  RANGE_NOT_SATISFIABLE: 416,
  STORAGE_CORRUPT: 500,
};

/** Maps anything thrown by a route to the HttpError to send. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof UploadOffsetError)
    return new HttpError(416, 'BLOB_UPLOAD_INVALID', err.message, undefined, { Range: uploadRange(err.size) });
  if (err instanceof UploadTooLargeError) return new HttpError(413, 'SIZE_INVALID', err.message);
  if (err instanceof RangeNotSatisfiableError)
    return new HttpError(416, 'RANGE_NOT_SATISFIABLE', err.message, undefined, { 'Content-Range': `bytes */${err.size}` });
  // 507 Insufficient Storage: the client learns the push failed for want of space, not a bug; nothing of it became visible.
  if (isOutOfSpace(err)) return new HttpError(507, 'UNKNOWN', 'registry storage is full');
  if (err instanceof StorageError) {
    const status = STATUS[err.code] ?? 500;
    return new HttpError(status, status === 500 ? 'UNKNOWN' : err.code, status === 500 ? 'internal storage error' : err.message);
  }
  return new HttpError(500, 'UNKNOWN', 'internal server error');
}

/** `Range` header of an upload holding `size` bytes (docker-registry sends 0-0 for an empty one). */
export function uploadRange(size: number): string {
  return `0-${Math.max(size - 1, 0)}`;
}

export function sendError(res: ServerResponse, err: HttpError, head = false): void {
  const body = JSON.stringify({ errors: [{ code: err.code, message: err.message, detail: err.detail ?? null }] });
  res.writeHead(err.status, {
    ...err.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(head ? undefined : body);
}
