/**
 * Blob uploads in progress: a private area per repository where bytes
 * accumulate until the client names the digest. The running sha256 of each
 * upload is kept in memory so a commit needs no re-read; after a restart it
 * is gone and the commit re-hashes the file (streaming) instead.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { digestAlgorithm } from '../../oci/digest.js';
import { DigestInvalidError, UploadOffsetError, UploadUnknownError } from './errors.js';
import { writeStream } from './write-stream.js';
import { ensureDir, FILE_MODE, fileSize, fsyncDir, fsyncFile, hashFile, isMissing, writeAtomic } from './files.js';
import type { Layout } from './layout.js';
import { KeyedLock } from '../../fs/keyed-lock.js';
import { checkDigest, isUploadId } from './names.js';

export interface AppendOptions {
  /** Where the client says the chunk starts; must equal the bytes received so far. */
  offset?: number;
  /** Limit on the upload's total size, so one client cannot fill the disk. */
  maxBytes?: number;
}

/** The sha256 of the first `size` bytes of an upload's data file. */
interface HashState {
  hash: Hash;
  size: number;
}

export class UploadArea {
  private readonly hashes = new Map<string, HashState>();
  private readonly locks = new KeyedLock();

  constructor(private readonly layout: Layout) {}

  async create(repo: string): Promise<string> {
    const id = randomUUID();
    const dir = this.layout.uploadDir(repo, id);
    try {
      await ensureDir(dir);
      await writeAtomic(join(dir, 'startedat'), new Date().toISOString());
      await (await open(join(dir, 'data'), 'wx', FILE_MODE)).close();
      await fsyncDir(dir);
    } catch (err) {
      // E.g. a full disk: no client knows this id, so a half-made folder would only wait for gc.
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
    this.remember(key(repo, id), { hash: createHash('sha256'), size: 0 });
    return id;
  }

  async size(repo: string, id: string): Promise<number | undefined> {
    if (!isUploadId(id)) return undefined;
    return fileSize(this.dataPath(repo, id));
  }

  append(repo: string, id: string, data: Readable, opts: AppendOptions = {}): Promise<number> {
    return this.locked(repo, id, () => this.appendLocked(repo, id, data, opts));
  }

  /**
   * Appends the optional last chunk, checks the digest and hands the fsynced
   * data file to `place`, which must move it away (or accept that it is
   * already stored); then the upload is removed. On a digest mismatch the
   * upload stays as it was, final chunk included, and nothing is placed.
   */
  commit(
    repo: string,
    id: string,
    digest: string,
    data: Readable | undefined,
    place: (file: string) => Promise<void>,
    maxBytes?: number,
  ): Promise<number> {
    return this.locked(repo, id, async () => {
      checkDigest(digest);
      if (data) await this.appendLocked(repo, id, data, maxBytes === undefined ? {} : { maxBytes });
      const file = this.dataPath(repo, id);
      const size = await fsyncFile(file).catch((err: unknown) => {
        throw isMissing(err) ? new UploadUnknownError(id) : err;
      });
      const actual = await this.currentDigest(repo, id, size, digestAlgorithm(digest));
      if (actual !== digest) throw new DigestInvalidError(`upload hashes to ${actual}, not ${digest}`);
      try {
        await place(file);
      } catch (err) {
        // Failed after moving the data (e.g. the repository link hit a full disk): the blob is
        // stored, and an upload without its data can never be resumed or committed.
        if ((await fileSize(file).catch(() => 0)) === undefined) {
          this.hashes.delete(key(repo, id));
          await rm(this.layout.uploadDir(repo, id), { recursive: true, force: true }).catch(() => undefined);
        }
        throw err;
      }
      await rm(this.layout.uploadDir(repo, id), { recursive: true, force: true });
      this.hashes.delete(key(repo, id));
      return size;
    });
  }

  cancel(repo: string, id: string): Promise<void> {
    return this.locked(repo, id, async () => {
      if ((await this.size(repo, id)) === undefined) throw new UploadUnknownError(id);
      this.hashes.delete(key(repo, id));
      await rm(this.layout.uploadDir(repo, id), { recursive: true, force: true });
    });
  }

  private dataPath(repo: string, id: string): string {
    return join(this.layout.uploadDir(repo, id), 'data');
  }

  private async appendLocked(repo: string, id: string, data: Readable, opts: AppendOptions): Promise<number> {
    const size = await this.size(repo, id);
    // Drain, not destroy: the error response must still reach the client on this connection.
    if (size === undefined) {
      data.resume();
      throw new UploadUnknownError(id);
    }
    if (opts.offset !== undefined && opts.offset !== size) {
      data.resume();
      throw new UploadOffsetError(size, opts.offset);
    }
    const k = key(repo, id);
    const state = this.hashes.get(k);
    // Hash a copy: if the chunk fails half-way, the file is cut back and the
    // old state is still right. An empty upload can start a fresh hash even
    // after a restart; a non-empty one without state is re-hashed at commit.
    const hash = state && state.size === size ? state.hash.copy() : size === 0 ? createHash('sha256') : undefined;
    const fh = await open(this.dataPath(repo, id), 'r+');
    let position = size;
    try {
      position = await writeStream(fh, data, size, hash, opts.maxBytes);
    } catch (err) {
      // A failed chunk leaves the upload as the client last saw it, so it can resume at the same offset.
      await fh.truncate(size).catch(() => undefined);
      throw err;
    } finally {
      await fh.close();
    }
    if (hash) this.remember(k, { hash, size: position });
    else this.hashes.delete(k);
    return position;
  }

  private async currentDigest(repo: string, id: string, size: number, algorithm: 'sha256' | 'sha512'): Promise<string> {
    const state = this.hashes.get(key(repo, id));
    if (algorithm === 'sha256' && state && state.size === size) return `sha256:${state.hash.copy().digest('hex')}`;
    return hashFile(this.dataPath(repo, id), algorithm);
  }

  /**
   * Keeps an upload's running hash, the most recently used ones only: clients
   * that open uploads and walk away must not grow memory without bound. An
   * upload whose state was dropped is re-hashed from its file at commit.
   */
  private remember(k: string, state: HashState): void {
    this.hashes.delete(k);
    this.hashes.set(k, state);
    while (this.hashes.size > MAX_HASH_STATES) this.hashes.delete(this.hashes.keys().next().value!);
  }

  /** Serialises work on one upload within this process: appends, commit and cancel never interleave. */
  private async locked<T>(repo: string, id: string, fn: () => Promise<T>): Promise<T> {
    if (!isUploadId(id)) throw new UploadUnknownError(String(id));
    this.layout.uploadDir(repo, id); // validates the name before anything queues
    return this.locks.run(key(repo, id), fn);
  }

}

/** Running hashes kept for uploads in progress (~1.2 KB each). */
const MAX_HASH_STATES = 4096;

function key(repo: string, id: string): string {
  return `${repo}\n${id}`;
}
