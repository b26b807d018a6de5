/**
 * Storage-level failures. They are plain Errors, not ChartprovErrors: they
 * never reach the CLI user directly. Their `code` is the distribution-spec
 * error code (or a storage-only one) so the HTTP layer can map each to a
 * status and an `{"errors":[…]}` body without parsing messages.
 */
export type StorageErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'TAG_INVALID'
  | 'RANGE_NOT_SATISFIABLE'
  | 'STORAGE_CORRUPT';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class BlobUnknownError extends StorageError {
  constructor(readonly digest: string) {
    super('BLOB_UNKNOWN', `blob unknown: ${digest}`);
  }
}

/** A malformed digest, or content that does not hash to the digest given. */
export class DigestInvalidError extends StorageError {
  constructor(message: string) {
    super('DIGEST_INVALID', message);
  }
}

export class UploadUnknownError extends StorageError {
  constructor(readonly id: string) {
    super('BLOB_UPLOAD_UNKNOWN', `upload unknown: ${id.slice(0, 80)}`);
  }
}

/** A chunk that does not start where the upload ends; `size` is what the HTTP layer reports back (Range: 0-size-1, 416). */
export class UploadOffsetError extends StorageError {
  constructor(
    readonly size: number,
    readonly offset: number,
  ) {
    super('BLOB_UPLOAD_INVALID', `chunk starts at ${offset} but the upload holds ${size} bytes`);
  }
}

/** The upload would grow past the limit the caller set (HTTP 413). */
export class UploadTooLargeError extends StorageError {
  constructor(readonly limit: number) {
    super('BLOB_UPLOAD_INVALID', `upload exceeds the limit of ${limit} bytes`);
  }
}

export class ManifestUnknownError extends StorageError {
  constructor(reference: string) {
    super('MANIFEST_UNKNOWN', `manifest unknown: ${reference.slice(0, 200)}`);
  }
}

export class ManifestInvalidError extends StorageError {
  constructor(message: string) {
    super('MANIFEST_INVALID', message);
  }
}

export class NameInvalidError extends StorageError {
  constructor(name: string, why: string) {
    super('NAME_INVALID', `invalid repository name ${JSON.stringify(name.slice(0, 300))}: ${why}`);
  }
}

export class TagInvalidError extends StorageError {
  constructor(tag: string) {
    super('TAG_INVALID', `invalid tag ${JSON.stringify(tag.slice(0, 200))}`);
  }
}

/** A range read outside the blob (HTTP 416 with `Content-Range: bytes * /size`). */
export class RangeNotSatisfiableError extends StorageError {
  constructor(readonly size: number) {
    super('RANGE_NOT_SATISFIABLE', `range not satisfiable for a blob of ${size} bytes`);
  }
}

/** What is on disk contradicts itself (a link to a missing blob, bytes that do not hash right): an operator problem, HTTP 500. */
export class StorageCorruptError extends StorageError {
  constructor(message: string) {
    super('STORAGE_CORRUPT', message);
  }
}

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
