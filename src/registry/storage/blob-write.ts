/**
 * A whole blob sent in one request (POST ?digest= with the body) goes
 * straight to its place in the store, without the upload area a resumable
 * upload needs: no upload folder, no `startedat` record, nothing to remove
 * afterwards. On this path each file-system call costs more in thread-pool
 * hand-offs than the syscall itself, and a mirror sends three such blobs a
 * chart version.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { tempPathFor } from '../../fs/atomic-write.js';
import { digestAlgorithm } from '../../oci/digest.js';
import { DigestInvalidError, UploadTooLargeError } from './errors.js';
import { ensureDir, FILE_MODE, fsyncDir, isFile } from './files.js';
import { writeStream } from './write-stream.js';

export interface StoredWhole {
  size: number;
  /** False when the store already held the blob and the body was only checked. */
  placed: boolean;
}

/**
 * Streams `data` into a temp file beside `target` (the blob's `data` file),
 * hashing it on the way, fsyncs it and renames it into place if it hashes
 * to `digest` (DIGEST_INVALID otherwise, and nothing is kept). A blob
 * already stored is only hashed: content-addressed, so the bytes on disk are
 * these. A kill -9 leaves at most a temp file named for this process, which
 * the next start or gc removes.
 */
export async function storeWholeBlob(target: string, digest: string, data: Readable | undefined, maxBytes?: number): Promise<StoredWhole> {
  const algorithm = digestAlgorithm(digest);
  const hash = createHash(algorithm);
  const check = (size: number) => {
    const actual = `${algorithm}:${hash.digest('hex')}`;
    if (actual !== digest) throw new DigestInvalidError(`upload hashes to ${actual}, not ${digest}`);
    return size;
  };
  if (await isFile(target)) return { size: check(data ? await hashOnly(data, hash, maxBytes) : 0), placed: false };
  const dir = dirname(target);
  await ensureDir(dir);
  const tmp = tempPathFor(target);
  let kept = false;
  try {
    const fh = await open(tmp, 'wx', FILE_MODE);
    let size: number;
    try {
      size = data ? await writeStream(fh, data, 0, hash, maxBytes) : 0;
      await fh.sync();
    } finally {
      await fh.close();
    }
    check(size);
    // A concurrent request for the same blob may have placed it meanwhile: renaming over it swaps
    // identical bytes, and readers holding the old file keep reading it.
    await rename(tmp, target);
    kept = true;
    await fsyncDir(dir);
    return { size, placed: true };
  } finally {
    if (!kept) {
      await rm(tmp, { force: true }).catch(() => undefined);
      // A folder made for this blob (refused, or out of space) is not left empty; a full one stays.
      if (!(await isFile(target).catch(() => true))) await rmdir(dir).catch(() => undefined);
    }
  }
}

/** Reads a body only to hash it, with the same size limit as a stored one. */
async function hashOnly(data: Readable, hash: ReturnType<typeof createHash>, maxBytes: number | undefined): Promise<number> {
  let size = 0;
  // Not a plain `for await`: leaving it early would destroy the request unread (see writeStream).
  for await (const chunk of data.iterator({ destroyOnReturn: false })) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (maxBytes !== undefined && size > maxBytes) throw new UploadTooLargeError(maxBytes);
    hash.update(buf);
  }
  return size;
}
