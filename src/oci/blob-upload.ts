/**
 * Blob upload as the distribution spec allows it, picking the cheapest way:
 * nothing when the registry has the blob (HEAD), a cross-repository mount
 * when another repository of the same registry has it, one PUT for small
 * blobs, PATCH chunks for large ones. Data is streamed and hashed on the way,
 * so memory does not grow with the blob and an unknown digest costs no
 * second read.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError, FileNotFoundError, FileReadError, RegistryError } from '../errors.js';
import { digestAlgorithm, digestOf } from './digest.js';
import { backoff } from './http.js';
import { isTransientNetworkError } from './registry-errors.js';
import { cancelUpload, finish, patch, postWhole, SINGLE_POST_MAX, singlePost, startUpload } from './upload-requests.js';
import type { Repository } from './repository.js';

/** What to upload: bytes in memory, a file, or a stream read once. */
export type BlobSource = { bytes: Uint8Array } | { path: string } | { stream: Readable; size?: number };

export interface PushBlobOptions {
  /** The blob's digest if known: enables the HEAD and mount shortcuts, and is checked against what is sent. */
  digest?: string;
  /** Repositories of the same registry that may hold the blob (cross-repository mount). */
  mountFrom?: readonly string[];
  /** Blobs up to this size go up in one PUT (default 32 MiB). */
  monolithicMax?: number;
  /** PATCH chunk size for larger blobs (default 64 MiB). */
  chunkSize?: number;
  /**
   * Skip the HEAD: the caller knows the blob is almost surely absent (a new
   * chart version's config and prov). Sending a blob the registry has is harmless.
   */
  assumeAbsent?: boolean;
  /** Called with the number of bytes sent so far. */
  onProgress?: (sent: number) => void;
}

export interface PushedBlob {
  digest: string;
  size: number;
  /** `exists`: the registry had it; `mounted`: linked from another repository; `uploaded`: sent. */
  how: 'exists' | 'mounted' | 'uploaded';
}

export async function pushBlob(repo: Repository, source: BlobSource, opts: PushBlobOptions = {}): Promise<PushedBlob> {
  const size = await sizeOf(source);
  const digest = opts.digest ?? ('bytes' in source ? digestOf(source.bytes) : undefined);
  if (digest && !opts.assumeAbsent) {
    const have = await repo.statBlob(digest, { forPush: true });
    if (have !== undefined) return { digest, size: size ?? have, how: 'exists' };
  }
  // An upload that broke off (a reset connection, a 502/503/504, a session
  // the registry lost) starts over in a new session when the source can be
  // read again (bytes, a file), as containerd's content.Copy starts a reset
  // write over from a seekable reader. A new session is always safe: nothing
  // becomes visible before the final PUT, which the registry checks against
  // the digest, and the abandoned session is cancelled (or expires). The old
  // session is not resumed: after a reset its offset is uncertain, and
  // registries differ in how they report it. A stream is never sent twice
  // (oras-go does not retry a body it cannot get again either).
  const rereadable = !('stream' in source);
  const retries = repo.client.http.retries;
  for (let attempt = 0; ; attempt++) {
    const session: UploadSession = {};
    try {
      return await uploadOnce(repo, source, size, digest, opts, session);
    } catch (err) {
      if (!rereadable || attempt >= retries || !restartable(err)) throw err;
      if (session.location) await cancelUpload(repo, session.location);
      await sleep(backoff(attempt));
      // The broken try may have been committed before its answer was lost.
      if (digest) {
        const have = await repo.statBlob(digest, { forPush: true });
        if (have !== undefined) return { digest, size: size ?? have, how: 'uploaded' };
      }
    }
  }
}

/** The upload session a try opened, so that a failed try can give it back. */
interface UploadSession {
  location?: URL;
}

async function uploadOnce(
  repo: Repository,
  source: BlobSource,
  size: number | undefined,
  knownDigest: string | undefined,
  opts: PushBlobOptions,
  session: UploadSession,
): Promise<PushedBlob> {
  let digest = knownDigest;
  let posted: URL | undefined;
  if (digest && 'bytes' in source && source.bytes.length <= SINGLE_POST_MAX && !opts.mountFrom?.length && singlePost.get(repo) !== false) {
    const answer = await postWhole(repo, digest, source.bytes);
    if (answer === 'stored') return { digest, size: source.bytes.length, how: 'uploaded' };
    posted = answer;
  }
  const start = posted ? { mounted: false, location: posted } : await startUpload(repo, digest, opts.mountFrom);
  if (start.mounted) return { digest: digest!, size: size ?? 0, how: 'mounted' };
  session.location = start.location;

  const hasher = new HashingStream(digest ? digestAlgorithm(digest) : 'sha256', opts.onProgress);
  const monolithicMax = opts.monolithicMax ?? 32 * 1024 * 1024;
  let location = start.location;
  if (size !== undefined && size <= monolithicMax && (digest !== undefined || !('stream' in source))) {
    digest ??= await digestSmall(source);
    location = await finish(repo, location, digest, { open: () => open(source, hasher), size, once: 'stream' in source });
  } else if (size !== undefined && 'path' in source) {
    location = await patchChunks(repo, location, source.path, size, opts.chunkSize ?? 64 * 1024 * 1024, hasher, session);
    digest = checkSent(digest, hasher, size, repo);
    location = await finish(repo, location, digest);
  } else {
    // A stream of unknown length: one streamed PATCH (the spec's "streamed" upload), then commit.
    location = await patch(repo, location, { open: () => open(source, hasher), once: true });
    session.location = location;
    digest = checkSent(digest, hasher, hasher.size, repo);
    location = await finish(repo, location, digest);
  }
  return { digest, size: size ?? hasher.size, how: 'uploaded' };
}

/** Failures after which a new upload session may succeed: the connection or the registry's front end, not the content. */
function restartable(err: unknown): boolean {
  if (isTransientNetworkError(err)) return true;
  if (!(err instanceof RegistryError)) return false;
  if (err.status === 502 || err.status === 503 || err.status === 504) return true;
  // The registry lost the session (restarted, or another node behind a load balancer answered).
  return err.status === 404 && /BLOB_UPLOAD_UNKNOWN/.test(err.message);
}

async function sizeOf(source: BlobSource): Promise<number | undefined> {
  if ('bytes' in source) return source.bytes.length;
  if ('stream' in source) return source.size;
  try {
    const st = await stat(source.path);
    if (!st.isFile()) throw new FileReadError(source.path, 'blob file');
    return st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(source.path, 'file', { cause: err });
    throw err instanceof FileReadError ? err : new FileReadError(source.path, 'file', { cause: err });
  }
}

/** A small file or stream whose digest is unknown: hash it first so the single PUT can name it. */
async function digestSmall(source: BlobSource): Promise<string> {
  if ('bytes' in source) return digestOf(source.bytes);
  if ('stream' in source) throw new RegistryError('a stream needs its digest to be uploaded in one request');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(source.path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

function open(source: BlobSource, hasher: HashingStream): Readable {
  hasher.reset();
  const input =
    'bytes' in source ? Readable.from([Buffer.from(source.bytes)]) : 'path' in source ? createReadStream(source.path) : source.stream;
  input.on('error', (err: Error) => hasher.destroy(err));
  return input.pipe(hasher.fresh());
}

async function patchChunks(
  repo: Repository,
  location: URL,
  path: string,
  size: number,
  chunkSize: number,
  hasher: HashingStream,
  session: UploadSession,
): Promise<URL> {
  hasher.reset();
  for (let offset = 0; offset < size; offset += chunkSize) {
    const end = Math.min(offset + chunkSize, size) - 1;
    // The hash runs across chunks, so a chunk cannot be re-sent: no replay.
    const openChunk = () => {
      const input = createReadStream(path, { start: offset, end });
      const through = hasher.fresh();
      input.on('error', (err) => through.destroy(err));
      return input.pipe(through);
    };
    location = await patch(repo, location, { open: openChunk, once: true }, [offset, end]);
    session.location = location;
  }
  return location;
}

function checkSent(expected: string | undefined, hasher: HashingStream, size: number, repo: Repository): string {
  const actual = hasher.digest();
  if (hasher.size !== size) {
    throw new DigestMismatchError(`sent ${hasher.size} bytes to ${repo} instead of ${size}: the source changed during the upload`);
  }
  if (expected && expected !== actual) {
    throw new DigestMismatchError(`content sent to ${repo} hashes to ${actual}, not ${expected}: the source changed during the upload`);
  }
  return actual;
}

/** Hashes everything that flows through the pass-throughs it hands out, across chunks. */
class HashingStream {
  private hash: Hash;
  private current: Transform | undefined;
  size = 0;

  constructor(
    private readonly algorithm: 'sha256' | 'sha512',
    private readonly onProgress?: (sent: number) => void,
  ) {
    this.hash = createHash(algorithm);
  }

  reset(): void {
    this.hash = createHash(this.algorithm);
    this.size = 0;
  }

  fresh(): Transform {
    const self = this;
    this.current = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
        self.hash.update(chunk);
        self.size += chunk.length;
        self.onProgress?.(self.size);
        done(null, chunk);
      },
    });
    return this.current;
  }

  destroy(err: Error): void {
    this.current?.destroy(err);
  }

  digest(): string {
    return `${this.algorithm}:${this.hash.digest('hex')}`;
  }
}
