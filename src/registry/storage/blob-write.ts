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
import { DigestInvalidError } from './errors.js';
import { FILE_MODE, fsyncDir, inFolder, isFile } from './files.js';
import { writeStream } from './write-stream.js';

export interface StoredWhole {
  size: number;
  /** False when the store already held the blob (the body was checked, then dropped). */
  placed: boolean;
}

/**
 * Streams `data` into a temp file beside `target` (the blob's `data` file),
 * hashing it on the way; if it hashes to `digest` (DIGEST_INVALID otherwise,
 * and nothing is kept) it is fsynced and renamed into place, unless the store
 * holds the blob already. Whether it does is looked at only after the body
 * is checked, so a request learns nothing from how long a refusal takes.
 * A kill -9 leaves at most a temp file named for this process (removed at
 * the next start or by gc), an empty folder (gc) or a stored blob not yet
 * linked (gc, or the client's retry links it).
 */
export async function storeWholeBlob(target: string, digest: string, data: Readable | undefined, maxBytes?: number): Promise<StoredWhole> {
  const algorithm = digestAlgorithm(digest);
  const hash = createHash(algorithm);
  const dir = dirname(target);
  const tmp = tempPathFor(target);
  try {
    const fh = await inFolder(dir, () => open(tmp, 'wx', FILE_MODE));
    let size: number;
    let stored: boolean;
    try {
      size = data ? await writeStream(fh, data, 0, hash, maxBytes) : 0;
      const actual = `${algorithm}:${hash.digest('hex')}`;
      if (actual !== digest) throw new DigestInvalidError(`upload hashes to ${actual}, not ${digest}`);
      stored = await isFile(target);
      if (!stored) await fh.sync();
    } finally {
      await fh.close();
    }
    if (stored) {
      await rm(tmp, { force: true });
      return { size, placed: false };
    }
    // A concurrent request for the same blob may have placed it meanwhile: renaming over it
    // swaps identical bytes, and readers holding the old file keep reading it.
    await rename(tmp, target);
    await fsyncDir(dir);
    return { size, placed: true };
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    // The folder goes if this request made it and nothing else is in it. A concurrent request
    // for the same digest either holds a file there (then it stays: not empty) or is between
    // its mkdir and its open, and inFolder makes the folder again.
    await rmdir(dir).catch(() => undefined);
    throw err;
  }
}
