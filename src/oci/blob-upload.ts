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
import { repositoryScope } from './challenge.js';
import { digestAlgorithm, digestOf } from './digest.js';
import { backoff, header } from './http.js';
import { isTransientNetworkError, redactSecrets } from './registry-errors.js';
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

const OCTET = 'application/octet-stream';

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

/** Gives an upload session back; a registry that cannot (or is gone) lets it expire. */
async function cancelUpload(repo: Repository, location: URL): Promise<void> {
  await repo
    .send({ method: 'DELETE', url: location, scopes: repo.scopes(true), accept: [400, 404, 405], what: `cancel an upload to ${repo}` })
    .then((r) => r.body.dump())
    .catch(() => undefined);
}

/** Small blobs in memory (configs, provs) go up in one POST where the registry takes that. */
const SINGLE_POST_MAX = 1024 * 1024;

/**
 * Whether a registry stores a blob sent whole with the POST that opens an
 * upload (distribution-spec's single-request upload: 201), per client and
 * registry. Registries that do not (distribution 2.8, Harbor) open an
 * ordinary upload instead (202) and are not asked again.
 */
const singlePost = {
  known: new WeakMap<object, Map<string, boolean>>(),
  get(repo: Repository): boolean | undefined {
    return this.known.get(repo.client)?.get(repo.registry);
  },
  set(repo: Repository, works: boolean): void {
    let perClient = this.known.get(repo.client);
    if (!perClient) this.known.set(repo.client, (perClient = new Map()));
    perClient.set(repo.registry, works);
  },
};

/** POST ?digest= with the bytes: `stored` (201), or the Location of the ordinary upload the registry opened instead. */
async function postWhole(repo: Repository, digest: string, bytes: Uint8Array): Promise<'stored' | URL> {
  if (digestOf(bytes, digestAlgorithm(digest)) !== digest) {
    throw new DigestMismatchError(`the blob given for ${digest} hashes to ${digestOf(bytes, digestAlgorithm(digest))}`);
  }
  const url = repo.url('blobs/uploads/');
  url.searchParams.set('digest', digest);
  const res = await repo.send({
    method: 'POST',
    url,
    headers: { 'content-type': OCTET, 'content-length': String(bytes.length) },
    body: () => Readable.from([Buffer.from(bytes)]),
    replayable: true,
    idempotent: true,
    scopes: repo.scopes(true),
    // A registry that will not take a body there may say so; then it is asked the ordinary way.
    accept: [400, 405, 413, 415],
    what: `push blob ${digest} to ${repo}`,
  });
  await res.body.dump();
  if (res.status >= 400) {
    singlePost.set(repo, false);
    return (await startUpload(repo, digest, undefined)).location;
  }
  if (res.status === 201) {
    singlePost.set(repo, true);
    return 'stored';
  }
  singlePost.set(repo, false);
  return uploadLocation(res);
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

async function startUpload(
  repo: Repository,
  digest: string | undefined,
  mountFrom: readonly string[] | undefined,
): Promise<{ mounted: boolean; location: URL }> {
  const sources = digest ? (mountFrom ?? []).filter((r) => r !== repo.name) : [];
  for (const [i, from] of sources.entries()) {
    const url = repo.url('blobs/uploads/');
    url.searchParams.set('mount', digest!);
    url.searchParams.set('from', from);
    const res = await repo.send({
      method: 'POST',
      url,
      scopes: [...repo.scopes(true), repositoryScope(from, 'pull')],
      idempotent: true,
      what: `mount blob ${digest} into ${repo}`,
    });
    await res.body.dump();
    if (res.status === 201) return { mounted: true, location: url };
    // 202: the registry could not mount from there (no such blob, no access) and opened an upload instead.
    const location = uploadLocation(res);
    if (i === sources.length - 1) return { mounted: false, location };
    // More places to try: give this upload session back first.
    await repo
      .send({ method: 'DELETE', url: location, scopes: repo.scopes(true), accept: [404], what: `cancel an upload to ${repo}` })
      .then((r) => r.body.dump())
      .catch(() => undefined);
  }
  const res = await repo.send({
    method: 'POST',
    url: repo.url('blobs/uploads/'),
    scopes: repo.scopes(true),
    idempotent: true,
    what: `push to ${repo}`,
  });
  await res.body.dump();
  return { mounted: false, location: uploadLocation(res) };
}

/** The upload URL a response names, relative to the URL that answered (RFC 3986). */
function uploadLocation(res: { headers: Record<string, string | string[] | undefined>; url: URL }): URL {
  const location = header(res, 'location');
  if (!location) throw new RegistryError(`registry ${res.url.host} started an upload without a Location`);
  return new URL(location, res.url);
}

interface Body {
  open: () => Readable;
  size?: number;
  once?: boolean;
}

async function patch(repo: Repository, location: URL, body: Body, range?: [number, number]): Promise<URL> {
  const headers: Record<string, string> = { 'content-type': OCTET };
  if (range) {
    headers['content-range'] = `${range[0]}-${range[1]}`;
    headers['content-length'] = String(range[1] - range[0] + 1);
  }
  const res = await repo.send({
    method: 'PATCH',
    url: location,
    headers,
    body: body.open,
    replayable: !body.once,
    scopes: repo.scopes(true),
    what: `upload to ${repo}`,
  });
  await res.body.dump();
  return uploadLocation(res);
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

async function finish(repo: Repository, location: URL, digest: string, body?: Body): Promise<URL> {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  const headers: Record<string, string> = { 'content-type': OCTET };
  if (body?.size !== undefined) headers['content-length'] = String(body.size);
  const res = await repo.send({
    method: 'PUT',
    url,
    headers,
    body: body?.open,
    // A stream read once cannot go again, not even to answer a 401 challenge.
    replayable: !body?.once,
    scopes: repo.scopes(true),
    accept: [400],
    what: `push blob ${digest} to ${repo}`,
  });
  if (res.status === 400) {
    const text = redactSecrets(await res.body.text(), await repo.client.http.auth.secrets(repo.registry));
    if (/DIGEST_INVALID/.test(text)) {
      throw new DigestMismatchError(`registry computed another digest than ${digest} for the blob sent to ${repo}`, {
        hint: 'the file changed while it was uploaded; try again',
      });
    }
    throw new RegistryError(`registry refused blob ${digest} for ${repo}: ${text.slice(0, 200)}`, 400);
  }
  await res.body.dump();
  return url;
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
