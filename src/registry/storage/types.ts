import type { Readable } from 'node:stream';
import type { AppendOptions } from './uploads.js';

export type { AppendOptions };

/** Inclusive byte range, as in an HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/** A blob (or a range of it) as read for a response. */
export interface BlobRead {
  /** The whole blob's size, whatever the range. */
  size: number;
  /** The requested bytes: in memory when small, else a stream to consume or destroy. */
  body: Buffer | Readable;
}

export interface StoredManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/**
 * What the embedded registry needs from its storage, kept small so that a
 * second backend (S3) can implement it. Failures are StorageErrors whose
 * `code` is the distribution-spec error code; "not found" on a read is
 * `undefined`/`false`, not an error.
 */
export interface RegistryStorage {
  // ---- content-addressed blobs, shared by all repositories
  /** Size in bytes, or undefined if the blob is not stored. */
  statBlob(digest: string): Promise<number | undefined>;
  /** BLOB_UNKNOWN if absent; RANGE_NOT_SATISFIABLE if the range starts past the end (an end past it is clamped). */
  openBlob(digest: string, range?: ByteRange): Promise<Readable>;
  /** As openBlob, with the size from the same open file; bytes up to `inMemoryUpTo` (default 64 KiB) come as one Buffer. */
  readBlob(digest: string, range?: ByteRange, inMemoryUpTo?: number): Promise<BlobRead>;

  // ---- uploads: a blob becomes visible only after its digest is verified
  /** A random, url-safe upload id. */
  createUpload(repo: string): Promise<string>;
  /** Bytes received so far, undefined if the upload is unknown. */
  uploadSize(repo: string, id: string): Promise<number | undefined>;
  /** Returns the new size. BLOB_UPLOAD_INVALID if `offset` is not the current size or `maxBytes` would be passed; the chunk is then not kept. */
  appendUpload(repo: string, id: string, data: Readable, opts?: AppendOptions): Promise<number>;
  /**
   * Appends `data` if given (BLOB_UPLOAD_INVALID past `maxBytes` in total), verifies the digest
   * (DIGEST_INVALID, upload kept), stores and links the blob, removes the upload; returns the blob's size.
   */
  commitUpload(repo: string, id: string, digest: string, data?: Readable, maxBytes?: number): Promise<number>;
  /** A whole blob sent in one request, checked against `digest` and linked into `repo`; returns its size. */
  putBlob(repo: string, digest: string, data?: Readable, maxBytes?: number): Promise<number>;
  /** BLOB_UPLOAD_UNKNOWN if there is no such upload. */
  cancelUpload(repo: string, id: string): Promise<void>;

  // ---- repository membership of blobs (a mount is a link)
  /** BLOB_UNKNOWN if the blob is not stored. */
  linkBlob(repo: string, digest: string): Promise<void>;
  isLinked(repo: string, digest: string): Promise<boolean>;
  unlinkBlob(repo: string, digest: string): Promise<void>;

  // ---- manifests: a blob plus a per-repository revision link; tags name digests
  /** Stores the manifest (sha256), points `tag` at it if given, indexes it as a referrer of `subject` if given; returns the digest. */
  putManifest(repo: string, bytes: Uint8Array, mediaType: string, tag?: string, subject?: string): Promise<string>;
  /** Digests of the manifests in `repo` stored with this `subject`, sorted. */
  listReferrers(repo: string, subject: string): Promise<string[]>;
  /** By tag or digest; undefined if unknown in this repository. */
  getManifest(repo: string, reference: string): Promise<StoredManifest | undefined>;
  /** Removes the revision and every tag pointing to it; false if it was not there. The blob stays for gc. */
  deleteManifest(repo: string, digest: string): Promise<boolean>;
  /** Sorted lexically (code-unit order). */
  listTags(repo: string): Promise<string[]>;
  deleteTag(repo: string, tag: string): Promise<boolean>;
  /** Repositories holding at least one manifest, sorted. */
  listRepositories(): Promise<string[]>;
  /** Digests of the manifests in a repository, sorted. */
  listManifests(repo: string): Promise<string[]>;
}
