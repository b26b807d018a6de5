/**
 * A read-only consistency check of a registry's data folder, its fsck
 * (`chartprov serve check`): every stored blob re-hashed to its name, every
 * manifest's record, bytes and the blobs it needs, every tag and repository
 * link. It repairs nothing: gc removes garbage, and damage needs the content
 * pushed again.
 *
 * It takes the data folder's lock, as gc does, and so refuses to run next to
 * a server (REGISTRY_DATA_LOCKED): a blob pushed after the walk of the blob
 * store would show as a repository linking a blob that is not stored, and a
 * manifest deleted mid-check as a dangling tag.
 */
import { stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { FileNotFoundError } from '../../errors.js';
import { isDigest } from '../../oci/digest.js';
import { acquireDataLock } from './data-lock.js';
import { checkRepositories } from './check-repos.js';
import { hashFile, isMissing, isTempName, listDir } from './files.js';
import { Layout } from './layout.js';

export type StorageProblemKind =
  /** A stored blob whose bytes do not hash to its name. */
  | 'blob-corrupt'
  /** A manifest needs a blob (config, layer, an index's child) that is not stored. */
  | 'blob-missing'
  /** A repository holds a manifest (revision record) whose bytes are not stored. */
  | 'manifest-missing'
  /** A manifest or its revision record that cannot be read as one. */
  | 'manifest-invalid'
  /** A tag names a manifest its repository does not hold. */
  | 'tag-dangling'
  /** A tag link that holds no digest. */
  | 'tag-invalid'
  /** A repository's blob link names a blob that is not stored, or holds another digest. */
  | 'link-dangling'
  /** A file or folder in the blob store that the registry never writes. */
  | 'unexpected-entry';

export interface StorageProblem {
  kind: StorageProblemKind;
  /** Relative to the data folder, with '/'. */
  path: string;
  message: string;
  repository?: string;
  digest?: string;
  tag?: string;
}

/** What interrupted work left: invisible to clients, removed by the server's start (temp files) or gc. */
export interface StorageLeftover {
  kind: 'temp-file' | 'empty-folder';
  path: string;
}

export interface StorageCheckReport {
  dataDir: string;
  /** No problems (leftovers are no problem). */
  ok: boolean;
  repositories: number;
  /** Stored blobs (manifests included), each re-hashed. */
  blobs: number;
  blobBytes: number;
  /** Manifests held by repositories (a manifest in two repositories counts twice). */
  manifests: number;
  tags: number;
  /** Blob links of repositories (`_layers`). */
  links: number;
  /** Uploads in progress (resumable by id; gc removes those untouched for a day). */
  uploads: number;
  problems: StorageProblem[];
  leftovers: StorageLeftover[];
}

export interface CheckStorageOptions {
  dataDir: string;
  /** Blobs hashed, and repositories checked, at once (default 8): reads overlap, and memory stays a few read buffers whatever the blob sizes. */
  jobs?: number;
  /** Called as blobs are hashed (for a progress line). */
  onProgress?: (hashed: number, total: number) => void;
}

const ALGORITHMS = ['sha256', 'sha512'] as const;
const SHARD = /^[a-f0-9]{2}$/;

/** Checks `dataDir` under its lock; throws FILE_NOT_FOUND for a folder that holds no registry, REGISTRY_DATA_LOCKED while a server runs. */
export async function checkRegistryStorage(opts: CheckStorageOptions): Promise<StorageCheckReport> {
  const layout = new Layout(opts.dataDir);
  // Before the lock, which would create a `.lock` in whatever folder a typo named.
  if (!(await isDir(layout.root))) throw notRegistry(layout.root, 'registry data folder');
  if (!(await isDir(layout.blobsDir)) && !(await isDir(layout.reposDir))) throw notRegistry(layout.blobsDir, 'registry blob store');
  const lock = await acquireDataLock(layout.root, 'check');
  try {
    return await runCheck(layout, opts);
  } finally {
    await lock.release();
  }
}

/** What the walks and checks add to; turned into the report at the end. */
export interface Findings {
  layout: Layout;
  report: StorageCheckReport;
  /** Stored blob digests, corrupt ones included (they are there, just wrong). */
  stored: Set<string>;
  corrupt: Set<string>;
  problem(p: StorageProblem): void;
  leftover(kind: StorageLeftover['kind'], path: string): void;
  /** `path` relative to the data folder, with '/'. */
  rel(path: string): string;
}

async function runCheck(layout: Layout, opts: CheckStorageOptions): Promise<StorageCheckReport> {
  const report: StorageCheckReport = {
    dataDir: layout.root,
    ok: true,
    repositories: 0,
    blobs: 0,
    blobBytes: 0,
    manifests: 0,
    tags: 0,
    links: 0,
    uploads: 0,
    problems: [],
    leftovers: [],
  };
  const findings: Findings = {
    layout,
    report,
    stored: new Set(),
    corrupt: new Set(),
    problem: (p) => report.problems.push(p),
    leftover: (kind, path) => report.leftovers.push({ kind, path: findings.rel(path) }),
    rel: (path) => relative(layout.root, path).split(sep).join('/'),
  };
  const jobs = Math.max(1, opts.jobs ?? 8);
  const blobs = await listStoredBlobs(findings);
  await hashBlobs(findings, blobs, jobs, opts.onProgress);
  await checkRepositories(findings, jobs);
  report.problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  report.leftovers.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  report.ok = report.problems.length === 0;
  return report;
}

interface BlobFile {
  digest: string;
  path: string;
}

/** Walks `blobs/<alg>/<hex[0:2]>/<hex>/data`; anything else there is a leftover or unexpected. */
async function listStoredBlobs(f: Findings): Promise<BlobFile[]> {
  const found: BlobFile[] = [];
  const isAlgorithm = (e: Dirent) => e.isDirectory() && (ALGORITHMS as readonly string[]).includes(e.name);
  for (const alg of await level(f, f.layout.blobsDir, isAlgorithm)) {
    for (const shard of await level(f, alg, (e) => e.isDirectory() && SHARD.test(e.name))) {
      const isBlobDir = (e: Dirent) => e.isDirectory() && isDigest(`${basename(alg)}:${e.name}`) && e.name.startsWith(basename(shard));
      for (const dir of await level(f, shard, isBlobDir)) {
        const blob = await blobFolder(f, dir, `${basename(alg)}:${basename(dir)}`);
        if (blob) found.push(blob);
      }
    }
  }
  return found;
}

/** The folders of one level of the blob store that `fit`; temp files there are leftovers, anything else is unexpected. */
async function level(f: Findings, dir: string, fit: (entry: Dirent) => boolean): Promise<string[]> {
  const dirs: string[] = [];
  for (const entry of await listDir(dir)) {
    const path = join(dir, entry.name);
    if (isTempName(entry.name)) f.leftover('temp-file', path);
    else if (fit(entry)) dirs.push(path);
    else f.problem({ kind: 'unexpected-entry', path: f.rel(path), message: 'an entry the registry never writes' });
  }
  return dirs;
}

/** One blob's folder: its `data`, or only what a killed write or gc left. */
async function blobFolder(f: Findings, dir: string, digest: string): Promise<BlobFile | undefined> {
  let data: BlobFile | undefined;
  for (const entry of await listDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.name === 'data' && entry.isFile()) data = { digest, path };
    else if (isTempName(entry.name) && entry.isFile()) f.leftover('temp-file', path);
    else f.problem({ kind: 'unexpected-entry', path: f.rel(path), message: 'an entry the registry never writes', digest });
  }
  if (!data) f.leftover('empty-folder', dir);
  return data;
}

/** Re-hashes every blob, `jobs` at a time, streaming: memory does not grow with blob size. */
async function hashBlobs(f: Findings, blobs: BlobFile[], jobs: number, onProgress: CheckStorageOptions['onProgress']): Promise<void> {
  let next = 0;
  let hashed = 0;
  const worker = async () => {
    for (let blob = blobs[next++]; blob !== undefined; blob = blobs[next++]) {
      const { digest, path } = blob;
      let size: number;
      let actual: string;
      try {
        size = (await stat(path)).size;
        actual = await hashFile(path, digest.startsWith('sha512:') ? 'sha512' : 'sha256');
      } catch (err) {
        if (isMissing(err)) continue; // removed since the walk: no lock holder does that, so only by hand
        throw err;
      }
      f.stored.add(digest);
      f.report.blobs++;
      f.report.blobBytes += size;
      if (actual !== digest) {
        f.corrupt.add(digest);
        f.problem({ kind: 'blob-corrupt', path: f.rel(path), digest, message: `blob ${digest} hashes to ${actual}` });
      }
      onProgress?.(++hashed, blobs.length);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

function notRegistry(path: string, what: string): FileNotFoundError {
  return new FileNotFoundError(path, what, { hint: 'check --data: it names the folder chartprov serve keeps its data in' });
}
