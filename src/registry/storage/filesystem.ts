/**
 * The local-disk RegistryStorage. Nothing is ever lost or half-visible:
 * blobs enter the store only by renaming a verified, fsynced file; every
 * link, tag and manifest record is written temp + fsync + rename; and the
 * order of writes is such that a link never names content that is not yet
 * complete (blob before revision link before tag link).
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobUnknownError, RangeNotSatisfiableError, StorageCorruptError } from './errors.js';
import { ensureDir, fileSize, isFile, isMissing, listDir, moveIntoPlace, readIfExists, removeLink, sweepTempOfOthers, writeAtomic } from './files.js';
import { KeyedLock } from '../../fs/keyed-lock.js';
import { Layout } from './layout.js';
import { isDigest } from '../../oci/digest.js';
import { checkDigest, checkMediaType, checkTag, isTag } from './names.js';
import type { BlobRead, ByteRange, RegistryStorage, StoredManifest } from './types.js';
import { UploadArea, type AppendOptions } from './uploads.js';
import { storeWholeBlob } from './blob-write.js';

const READ_CHUNK = 1 << 20;
/** Blobs (or ranges) up to this size are read whole and sent as one buffer: a chart, its config, its .prov. */
const SMALL_BLOB = 64 << 10;
/** Memory for recently served manifests (a chart's is under 1 KiB). */
const MANIFEST_CACHE_BYTES = 16 << 20;

const DIGEST_LIKE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:/;

/** Opens (creating if needed, mode 0700) a storage rooted at `root`. */
export async function createFilesystemStorage(root: string): Promise<RegistryStorage> {
  const layout = new Layout(root);
  await ensureDir(layout.blobsDir);
  await ensureDir(layout.reposDir);
  return new FilesystemStorage(layout);
}

/**
 * Removes the temp files that writes of earlier processes left in the blob
 * store and the repositories (a kill -9 between a write and its rename).
 * Only for the holder of the data folder's lock, which no other process
 * writes there meanwhile (see sweepTempOfOthers). Returns how many went.
 */
export async function removeInterruptedWrites(root: string, stopped: () => boolean = () => false): Promise<number> {
  const layout = new Layout(root);
  return (await sweepTempOfOthers(layout.blobsDir, stopped)) + (await sweepTempOfOthers(layout.reposDir, stopped));
}

// Every method is async so that a bad name rejects the promise rather than throwing synchronously.
class FilesystemStorage implements RegistryStorage {
  private readonly uploads: UploadArea;
  private readonly manifestCache = new Map<string, Buffer>();
  private readonly tagLocks = new KeyedLock();
  private manifestCacheBytes = 0;

  constructor(private readonly layout: Layout) {
    this.uploads = new UploadArea(layout);
  }

  // ---- blobs

  async statBlob(digest: string): Promise<number | undefined> {
    return fileSize(this.layout.blobData(digest));
  }

  async openBlob(digest: string, range?: ByteRange): Promise<Readable> {
    const { body } = await this.readBlob(digest, range, 0);
    return Buffer.isBuffer(body) ? Readable.from([body], { objectMode: false }) : body;
  }

  async readBlob(digest: string, range?: ByteRange, inMemoryUpTo = SMALL_BLOB): Promise<BlobRead> {
    const path = this.layout.blobData(digest);
    // Open first, then size the open file: a stat-then-open could race a gc.
    const fh = await open(path, 'r').catch((err: unknown) => {
      throw isMissing(err) ? new BlobUnknownError(digest) : err;
    });
    try {
      const { size } = await fh.stat();
      let start = 0;
      let end = size - 1;
      if (range) {
        end = Math.min(range.end, size - 1);
        start = range.start;
        if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.start > end)
          throw new RangeNotSatisfiableError(size);
      }
      const length = end - start + 1;
      if (length <= inMemoryUpTo) {
        // One read into a buffer of the exact size: a stream would allocate READ_CHUNK for a few KiB.
        const bytes = Buffer.allocUnsafe(length);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await fh.read(bytes, got, length - got, start + got);
          if (bytesRead === 0) throw new StorageCorruptError(`blob ${digest} is shorter than its size`);
          got += bytesRead;
        }
        await fh.close();
        return { size, body: bytes };
      }
      // Reads of up to 1 MiB: the default 64 KiB means 16 syscalls and socket writes per MiB served.
      return { size, body: fh.createReadStream({ start, end, highWaterMark: Math.min(READ_CHUNK, length) }) };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  // ---- uploads

  async createUpload(repo: string): Promise<string> {
    return this.uploads.create(repo);
  }

  async uploadSize(repo: string, id: string): Promise<number | undefined> {
    return this.uploads.size(repo, id);
  }

  async appendUpload(repo: string, id: string, data: Readable, opts?: AppendOptions): Promise<number> {
    return this.uploads.append(repo, id, data, opts);
  }

  async commitUpload(repo: string, id: string, digest: string, data?: Readable, maxBytes?: number): Promise<number> {
    return this.uploads.commit(
      repo,
      id,
      digest,
      data,
      (file) => this.placeBlob(repo, digest, file),
      maxBytes,
    );
  }

  async putBlob(repo: string, digest: string, data?: Readable, maxBytes?: number): Promise<number> {
    this.layout.repoDir(repo);
    const { size, placed } = await storeWholeBlob(this.layout.blobData(digest), digest, data, maxBytes);
    // A blob new to the store is linked nowhere yet: no need to look before writing the link.
    if (placed) await writeAtomic(this.layout.layerLink(repo, digest), digest);
    else await this.linkBlob(repo, digest);
    return size;
  }

  /** A verified, fsynced file into the store and the repository; an identical blob already stored is fine. */
  private async placeBlob(repo: string, digest: string, file: string): Promise<void> {
    await moveIntoPlace(file, this.layout.blobData(digest));
    await this.linkBlob(repo, digest);
  }

  async cancelUpload(repo: string, id: string): Promise<void> {
    return this.uploads.cancel(repo, id);
  }

  // ---- links

  async linkBlob(repo: string, digest: string): Promise<void> {
    const link = this.layout.layerLink(repo, digest);
    if (!(await isFile(this.layout.blobData(digest)))) throw new BlobUnknownError(digest);
    if (await isFile(link)) return;
    await writeAtomic(link, digest);
  }

  async isLinked(repo: string, digest: string): Promise<boolean> {
    return isFile(this.layout.layerLink(repo, digest));
  }

  async unlinkBlob(repo: string, digest: string): Promise<void> {
    await removeLink(this.layout.layerLink(repo, digest));
  }

  // ---- manifests

  async putManifest(repo: string, bytes: Uint8Array, mediaType: string, tag?: string, subject?: string): Promise<string> {
    checkMediaType(mediaType);
    if (tag !== undefined) checkTag(tag);
    if (subject !== undefined) checkDigest(subject);
    this.layout.repoDir(repo);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const blob = this.layout.blobData(digest);
    if (!(await isFile(blob))) await writeAtomic(blob, bytes);
    // Before the revision: a crash in between leaves a referrer link to no
    // revision, which listReferrers skips, never a referrer it cannot find.
    if (subject !== undefined) await writeAtomic(this.layout.referrerLink(repo, subject, digest), digest);
    // The revision record carries the media type: one atomic file says both
    // "this repository holds the manifest" and how to serve it.
    await writeAtomic(this.layout.revisionLink(repo, digest), JSON.stringify({ digest, mediaType }));
    if (tag !== undefined) await this.tagLock(repo, () => writeAtomic(this.layout.tagLink(repo, tag), digest));
    return digest;
  }

  /**
   * Serialises tag changes within a repository: a delete reads a tag,
   * compares, then removes it, and a tag moved elsewhere in between must not
   * be removed with it.
   */
  private tagLock<T>(repo: string, fn: () => Promise<T>): Promise<T> {
    return this.tagLocks.run(repo, fn);
  }

  async getManifest(repo: string, reference: string): Promise<StoredManifest | undefined> {
    const digest = await this.resolve(repo, reference);
    if (digest === undefined) return undefined;
    const record = await readIfExists(this.layout.revisionLink(repo, digest));
    if (record === undefined) return undefined;
    const { mediaType } = parseRevision(record, digest);
    return { bytes: await this.manifestBytes(repo, digest), mediaType, digest };
  }

  /**
   * A manifest's bytes, checked against its digest when read from disk (disk
   * rot must not reach a client) and then kept: content-addressed bytes never
   * change, and the file reads dominate the cost of a manifest GET.
   */
  private async manifestBytes(repo: string, digest: string): Promise<Buffer> {
    const cached = this.manifestCache.get(digest);
    if (cached) {
      // Least recently used goes first: re-insert on use.
      this.manifestCache.delete(digest);
      this.manifestCache.set(digest, cached);
      return cached;
    }
    const bytes = await readIfExists(this.layout.blobData(digest));
    if (bytes === undefined) throw new StorageCorruptError(`manifest ${digest} of ${repo} is linked but its blob is missing`);
    const alg = digest.startsWith('sha512:') ? 'sha512' : 'sha256';
    if (`${alg}:${createHash(alg).update(bytes).digest('hex')}` !== digest)
      throw new StorageCorruptError(`manifest blob ${digest} does not hash to its digest`);
    this.manifestCache.set(digest, bytes);
    this.manifestCacheBytes += bytes.length;
    for (const [d, b] of this.manifestCache) {
      if (this.manifestCacheBytes <= MANIFEST_CACHE_BYTES) break;
      this.manifestCache.delete(d);
      this.manifestCacheBytes -= b.length;
    }
    return bytes;
  }

  async deleteManifest(repo: string, digest: string): Promise<boolean> {
    const link = this.layout.revisionLink(repo, digest);
    if (!(await isFile(link))) return false;
    // Tags first, so that no tag is ever left naming a revision that is gone.
    return this.tagLock(repo, async () => {
      for (const tag of await this.listTags(repo)) {
        const target = await readIfExists(this.layout.tagLink(repo, tag));
        if (target?.toString('utf8') === digest) await removeLink(this.layout.tagLink(repo, tag));
      }
      return removeLink(link);
    });
  }

  async listReferrers(repo: string, subject: string): Promise<string[]> {
    const dir = this.layout.referrersDir(repo, subject);
    const found: string[] = [];
    for (const alg of await listDir(dir)) {
      if (!alg.isDirectory()) continue;
      for (const entry of await listDir(join(dir, alg.name))) {
        const digest = `${alg.name}:${entry.name}`;
        // The revision decides: a link whose manifest was deleted is no referrer.
        if (entry.isDirectory() && isDigest(digest) && (await isFile(this.layout.revisionLink(repo, digest)))) found.push(digest);
      }
    }
    return found.sort(lexical);
  }

  async listTags(repo: string): Promise<string[]> {
    const dir = this.layout.tagsDir(repo);
    const tags: string[] = [];
    for (const entry of await listDir(dir)) {
      // A tag folder holding only a temp file (a write killed before its rename) is no tag.
      if (entry.isDirectory() && isTag(entry.name) && (await isFile(join(dir, entry.name, 'link')))) tags.push(entry.name);
    }
    return tags.sort(lexical);
  }

  async deleteTag(repo: string, tag: string): Promise<boolean> {
    return removeLink(this.layout.tagLink(repo, tag));
  }

  async listRepositories(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (dir: string, name: string): Promise<void> => {
      for (const entry of await listDir(dir)) {
        if (!entry.isDirectory()) continue;
        if (entry.name === '_manifests') {
          // A repository whose manifests were all deleted is gone, as in distribution's catalog.
          if (name && (await this.listManifests(name)).length > 0) found.push(name);
        } else if (!entry.name.startsWith('_') && !entry.name.startsWith('.')) {
          await walk(join(dir, entry.name), name ? `${name}/${entry.name}` : entry.name);
        }
      }
    };
    await walk(this.layout.reposDir, '');
    return found.sort(lexical);
  }

  async listManifests(repo: string): Promise<string[]> {
    const dir = this.layout.revisionsDir(repo);
    const digests: string[] = [];
    for (const alg of ['sha256', 'sha512']) {
      for (const entry of await listDir(join(dir, alg))) {
        const digest = `${alg}:${entry.name}`;
        if (!entry.isDirectory() || !isDigestSafe(digest)) continue;
        if (await isFile(this.layout.revisionLink(repo, digest))) digests.push(digest);
      }
    }
    return digests.sort(lexical);
  }

  /** A tag or digest to a digest; undefined if the tag is not set. */
  private async resolve(repo: string, reference: string): Promise<string | undefined> {
    if (typeof reference === 'string' && DIGEST_LIKE.test(reference)) return checkDigest(reference);
    const link = await readIfExists(this.layout.tagLink(repo, reference));
    if (link === undefined) return undefined;
    const digest = link.toString('utf8');
    try {
      return checkDigest(digest);
    } catch {
      throw new StorageCorruptError(`tag ${reference} of ${repo} holds no digest`);
    }
  }
}

function parseRevision(record: Buffer, digest: string): { mediaType: string } {
  try {
    const parsed = JSON.parse(record.toString('utf8')) as { digest?: unknown; mediaType?: unknown };
    if (parsed.digest === digest && typeof parsed.mediaType === 'string') return { mediaType: parsed.mediaType };
  } catch {
    // fall through: written atomically, so this means outside interference
  }
  throw new StorageCorruptError(`revision record of ${digest} is unreadable`);
}

function isDigestSafe(digest: string): boolean {
  try {
    checkDigest(digest);
    return true;
  } catch {
    return false;
  }
}

function lexical(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
