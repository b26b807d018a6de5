/**
 * Garbage collection for the filesystem storage, after distribution's
 * mark-and-sweep: mark every blob a kept manifest needs (itself, its config
 * and layers, an index's child manifests), then delete every stored blob not
 * marked, the repository links to them, and uploads abandoned long ago.
 *
 * Two rules shape it. Never delete on doubt: a manifest that cannot be read
 * keeps itself, every digest its bytes mention, every blob linked into its
 * repository and every revision of that repository. And stay crash-safe: the
 * only things ever removed are things nothing kept needs, removed
 * referrer-first (untagged revisions, then links, then blobs), so a kill -9
 * at any point leaves a registry that serves everything it kept, and the
 * next run finishes the job.
 */
import { rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FileNotFoundError } from '../../errors.js';
import { digestAlgorithm, digestOf, isDigest } from '../../oci/digest.js';
import { acquireDataLock } from './data-lock.js';
import { fileSize, fsyncDir, isFile, isMissing, listDir, readIfExists, removeLink, sweepTemp } from './files.js';
import { createFilesystemStorage } from './filesystem.js';
import { Layout } from './layout.js';
import { checkRepoName } from './names.js';
import type { RegistryStorage } from './types.js';

export interface GcOptions {
  /** Decide and report, remove nothing. */
  dryRun?: boolean;
  /** Also remove manifest revisions no tag keeps (children of kept indexes and referrers of kept manifests stay). */
  deleteUntagged?: boolean;
  log?: (line: string) => void;
}

export interface GcReport {
  dryRun: boolean;
  /** Manifests read and followed while marking. */
  manifestsMarked: number;
  /** Stored blobs (manifests included) that are kept. */
  blobsMarked: number;
  /** Deleted, or with dryRun to be deleted. */
  blobsDeleted: Array<{ digest: string; size: number }>;
  bytesFreed: number;
  /** Untagged revisions removed (deleteUntagged only). */
  manifestsDeleted: Array<{ repo: string; digest: string }>;
  /** Repository links to deleted (or already missing) blobs. */
  linksRemoved: number;
  /** Uploads untouched for 24 hours. */
  uploadsRemoved: number;
  /** Leftovers of killed writes older than 24 hours; always 0 on a dry run. */
  tempFilesRemoved: number;
  /** What could not be read, and so kept its whole repository. */
  unreadable: Array<{ repo: string; problem: string }>;
  /** Digests a kept manifest names that are not stored: damage gc cannot repair. */
  missing: string[];
}

const STALE_MS = 24 * 60 * 60 * 1000;
// Far above the 4 MiB a manifest PUT accepts: anything larger is no manifest we stored.
const MANIFEST_READ_LIMIT = 16 << 20;
const ALGORITHMS = ['sha256', 'sha512'] as const;
const DIGEST_IN_TEXT = /sha256:[a-f0-9]{64}(?![a-f0-9])|sha512:[a-f0-9]{128}(?![a-f0-9])/g;
const REPO_PARTS = new Set(['_manifests', '_layers', '_uploads']);

/** What a manifest points at. Its `subject` is not here: a referrer points at its subject, it does not keep it. */
interface ManifestRefs {
  blobs: string[];
  children: string[];
  subject?: string;
}

type ManifestRead = { ok: true; refs: ManifestRefs } | { ok: false; reason: string; mentioned: string[] };

interface Repo {
  name: string;
  revisions: Map<string, ManifestRead>;
  /** Digests the tags point at. */
  tagged: Set<string>;
  /** Digests linked into the repository (`_layers`). */
  links: string[];
  /** Why its revisions cannot be judged; any doubt keeps the whole repository. */
  doubts: string[];
}

interface StoredBlob {
  digest: string;
  size: number;
}

/** Takes the data folder's lock for the run: a server's push in progress has blobs no manifest names yet. */
export async function collectGarbage(dataDir: string, opts: GcOptions = {}): Promise<GcReport> {
  const st = await stat(dataDir).catch((err: unknown) => {
    if (isMissing(err)) return undefined;
    throw err;
  });
  if (!st?.isDirectory()) throw new FileNotFoundError(dataDir, 'registry data folder');
  const lock = await acquireDataLock(dataDir, opts.dryRun ? 'gc --dry-run' : 'gc');
  try {
    return await runGc(new Layout(dataDir), await createFilesystemStorage(dataDir), opts);
  } finally {
    await lock.release();
  }
}

/** Everything gc will remove, decided before anything is. */
interface Plan {
  repos: Repo[];
  marks: Marks;
  stored: StoredBlob[];
  /** Untagged revisions, each before any revision it points at. */
  revisions: Array<{ repo: string; digest: string }>;
  /** `_layers` links to blobs that go or are already gone. */
  links: Array<{ repo: string; digest: string }>;
  blobs: StoredBlob[];
  leftovers: string[];
}

/** The removals of one run; a dry run walks the same steps and only reports them. */
interface Sweep {
  layout: Layout;
  storage: RegistryStorage;
  dryRun: boolean;
  log: (line: string) => void;
  report: GcReport;
  /** Folders whose entries were removed: made durable before any blob goes. */
  touched: Set<string>;
}

async function runGc(layout: Layout, storage: RegistryStorage, opts: GcOptions): Promise<GcReport> {
  const plan = await makePlan(layout, storage, opts.deleteUntagged === true);
  const sweep: Sweep = {
    layout,
    storage,
    dryRun: opts.dryRun === true,
    log: opts.log ?? (() => undefined),
    report: emptyReport(opts.dryRun === true),
    touched: new Set(),
  };
  reportFindings(sweep, plan);
  // Referrer-first: revisions, then links, made durable, and only then the blobs they named.
  await removeRevisions(sweep, plan.revisions);
  await removeLinks(sweep, plan.links);
  for (const dir of sweep.touched) await fsyncDir(dir);
  await removeBlobs(sweep, plan.blobs, plan.leftovers);
  const { report, dryRun, log } = sweep;
  report.uploadsRemoved = await removeStaleUploads(layout, plan.repos, dryRun, log);
  if (!dryRun) report.tempFilesRemoved = await sweepTemp(layout.root, STALE_MS);
  log(`${dryRun ? 'would free' : 'freed'} ${report.bytesFreed} bytes in ${report.blobsDeleted.length} blobs; kept ${report.blobsMarked}`);
  return report;
}

async function makePlan(layout: Layout, storage: RegistryStorage, deleteUntagged: boolean): Promise<Plan> {
  const reads = new Map<string, ManifestRead>();
  const repos = await loadRepos(layout, storage, reads);
  const roots: string[] = [];
  const pinned: string[] = [];
  const revisions: Plan['revisions'] = [];
  for (const repo of repos) {
    const kept = keptRevisions(repo, deleteUntagged);
    roots.push(...kept, ...repo.tagged);
    if (repo.doubts.length > 0) pinned.push(...repo.links);
    const doomed = parentsFirst(
      repo,
      [...repo.revisions.keys()].filter((d) => !kept.has(d)),
    );
    revisions.push(...doomed.map((digest) => ({ repo: repo.name, digest })));
  }
  const marks = await mark(layout, reads, roots, pinned);
  const { blobs: stored, leftovers } = await listBlobs(layout);
  const blobs = stored.filter((b) => !marks.blobs.has(b.digest));
  const keptDigests = new Set(stored.filter((b) => marks.blobs.has(b.digest)).map((b) => b.digest));
  const links = repos.flatMap((repo) => repo.links.filter((d) => !keptDigests.has(d)).map((digest) => ({ repo: repo.name, digest })));
  return { repos, marks, stored, revisions, links, blobs, leftovers };
}

function reportFindings({ report, log }: Sweep, plan: Plan): void {
  for (const repo of plan.repos) {
    for (const problem of repo.doubts) {
      report.unreadable.push({ repo: repo.name, problem });
      log(`keeping all of ${repo.name}: ${problem}`);
    }
  }
  const stored = new Set(plan.stored.map((b) => b.digest));
  report.manifestsMarked = plan.marks.manifests;
  report.blobsMarked = plan.stored.length - plan.blobs.length;
  report.missing = [...plan.marks.needed].filter((d) => !stored.has(d)).sort();
  for (const digest of report.missing) log(`missing: ${digest} is needed but not stored`);
}

async function removeRevisions(sweep: Sweep, revisions: Plan['revisions']): Promise<void> {
  const { layout, storage, dryRun, report, log } = sweep;
  for (const { repo, digest } of revisions) {
    log(`${dryRun ? 'would delete' : 'deleting'} untagged manifest ${repo}@${digest}`);
    report.manifestsDeleted.push({ repo, digest });
    if (!dryRun && (await storage.deleteManifest(repo, digest))) sweep.touched.add(dirname(dirname(layout.revisionLink(repo, digest))));
  }
}

async function removeLinks(sweep: Sweep, links: Plan['links']): Promise<void> {
  for (const { repo, digest } of links) {
    sweep.report.linksRemoved++;
    const link = sweep.layout.layerLink(repo, digest);
    if (!sweep.dryRun && (await removeLink(link))) sweep.touched.add(dirname(dirname(link)));
  }
}

async function removeBlobs(sweep: Sweep, blobs: StoredBlob[], leftovers: string[]): Promise<void> {
  const { layout, dryRun, report, log } = sweep;
  for (const blob of blobs) {
    log(`${dryRun ? 'would delete' : 'deleting'} blob ${blob.digest} (${blob.size} bytes)`);
    report.blobsDeleted.push(blob);
    report.bytesFreed += blob.size;
    if (!dryRun) await deleteBlob(layout, blob.digest);
  }
  // rmdir, not rm: a folder still holding a temp file is left to sweepTemp's age rule.
  if (!dryRun) for (const dir of leftovers) await rmdir(dir).catch(() => undefined);
}

function emptyReport(dryRun: boolean): GcReport {
  return {
    dryRun,
    manifestsMarked: 0,
    blobsMarked: 0,
    blobsDeleted: [],
    bytesFreed: 0,
    manifestsDeleted: [],
    linksRemoved: 0,
    uploadsRemoved: 0,
    tempFilesRemoved: 0,
    unreadable: [],
    missing: [],
  };
}

// ---- reading what is stored

async function loadRepos(layout: Layout, storage: RegistryStorage, reads: Map<string, ManifestRead>): Promise<Repo[]> {
  const repos: Repo[] = [];
  for (const name of await findRepositories(layout)) {
    const repo: Repo = { name, revisions: new Map(), tagged: new Set(), links: await listLinks(layout, name), doubts: [] };
    for (const digest of await storage.listManifests(name)) {
      const read = await readManifestCached(layout, reads, digest);
      repo.revisions.set(digest, read);
      if (!read.ok) repo.doubts.push(`manifest ${digest}: ${read.reason}`);
    }
    for (const tag of await storage.listTags(name)) {
      const target = (await readIfExists(layout.tagLink(name, tag)))?.toString('utf8');
      if (target === undefined) continue;
      if (isDigest(target)) repo.tagged.add(target);
      else repo.doubts.push(`tag ${tag} holds no digest`);
    }
    repos.push(repo);
  }
  return repos;
}

/** Every folder holding a repository's own parts; unlike listRepositories, also those with only links or uploads. */
async function findRepositories(layout: Layout): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, name: string): Promise<void> => {
    const entries = await listDir(dir);
    if (name && entries.some((e) => e.isDirectory() && REPO_PARTS.has(e.name)) && isRepoName(name)) found.push(name);
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('_') || entry.name.startsWith('.')) continue;
      await walk(join(dir, entry.name), name ? `${name}/${entry.name}` : entry.name);
    }
  };
  await walk(layout.reposDir, '');
  return found.sort();
}

function isRepoName(name: string): boolean {
  try {
    checkRepoName(name);
    return true;
  } catch {
    return false;
  }
}

async function listLinks(layout: Layout, repo: string): Promise<string[]> {
  const digests: string[] = [];
  for (const alg of ALGORITHMS) {
    for (const entry of await listDir(join(layout.repoDir(repo), '_layers', alg))) {
      const digest = `${alg}:${entry.name}`;
      if (entry.isDirectory() && isDigest(digest) && (await isFile(layout.layerLink(repo, digest)))) digests.push(digest);
    }
  }
  return digests;
}

/** Stored blobs, and blob folders without `data` (what a gc killed between its two removals leaves). */
async function listBlobs(layout: Layout): Promise<{ blobs: StoredBlob[]; leftovers: string[] }> {
  const blobs: StoredBlob[] = [];
  const leftovers: string[] = [];
  for (const alg of ALGORITHMS) {
    for (const shard of await listDir(join(layout.blobsDir, alg))) {
      if (!shard.isDirectory()) continue;
      for (const entry of await listDir(join(layout.blobsDir, alg, shard.name))) {
        const digest = `${alg}:${entry.name}`;
        // Anything not shaped like our own layout is not ours to judge.
        if (!entry.isDirectory() || !isDigest(digest) || !entry.name.startsWith(shard.name) || shard.name.length !== 2) continue;
        const size = await fileSize(layout.blobData(digest));
        if (size !== undefined) blobs.push({ digest, size });
        else leftovers.push(dirname(layout.blobData(digest)));
      }
    }
  }
  return { blobs, leftovers };
}

async function readManifestCached(layout: Layout, reads: Map<string, ManifestRead>, digest: string): Promise<ManifestRead> {
  let read = reads.get(digest);
  if (read === undefined) {
    read = await readManifest(layout, digest);
    reads.set(digest, read);
  }
  return read;
}

async function readManifest(layout: Layout, digest: string): Promise<ManifestRead> {
  const path = layout.blobData(digest);
  const size = await fileSize(path);
  if (size === undefined) return { ok: false, reason: 'its blob is missing', mentioned: [] };
  if (size > MANIFEST_READ_LIMIT) return { ok: false, reason: `its blob is ${size} bytes, too large for a manifest`, mentioned: [] };
  const bytes = await readIfExists(path);
  if (bytes === undefined) return { ok: false, reason: 'its blob is missing', mentioned: [] };
  const text = bytes.toString('utf8');
  const mentioned = [...new Set(text.match(DIGEST_IN_TEXT) ?? [])];
  if (digestOf(bytes, digestAlgorithm(digest)) !== digest) return { ok: false, reason: 'its blob does not hash to its digest', mentioned };
  const refs = parseRefs(text);
  return refs ? { ok: true, refs } : { ok: false, reason: 'it is not a JSON object', mentioned };
}

/** OCI and Docker manifests and indexes; `blobs` of the withdrawn OCI artifact manifest and schema 1's `fsLayers` cost nothing to honour. */
function parseRefs(text: string): ManifestRefs | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const blobs = [value.config, ...listOf(value.layers), ...listOf(value.blobs)].map(digestIn);
  const schema1 = listOf(value.fsLayers).map((l) => (isObject(l) ? l.blobSum : undefined));
  const children = listOf(value.manifests).map(digestIn);
  const subject = digestIn(value.subject);
  return {
    blobs: [...blobs, ...schema1].filter(isDigestValue),
    children: children.filter(isDigestValue),
    ...(subject !== undefined ? { subject } : {}),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function digestIn(descriptor: unknown): string | undefined {
  const digest = isObject(descriptor) ? descriptor.digest : undefined;
  return isDigestValue(digest) ? digest : undefined;
}

function isDigestValue(value: unknown): value is string {
  return typeof value === 'string' && isDigest(value);
}

// ---- deciding

/**
 * Tagged revisions, then to a fixpoint the children of kept indexes and the
 * referrers of kept manifests: signatures and provenance attached through
 * the referrers API are untagged on purpose.
 */
function keptRevisions(repo: Repo, deleteUntagged: boolean): Set<string> {
  if (!deleteUntagged || repo.doubts.length > 0) return new Set(repo.revisions.keys());
  const referrers = new Map<string, string[]>();
  for (const [digest, read] of repo.revisions) {
    const subject = read.ok ? read.refs.subject : undefined;
    if (subject !== undefined) referrers.set(subject, [...(referrers.get(subject) ?? []), digest]);
  }
  const kept = new Set<string>();
  const queue = [...repo.tagged];
  for (let digest = queue.pop(); digest !== undefined; digest = queue.pop()) {
    const read = repo.revisions.get(digest);
    if (kept.has(digest) || read === undefined) continue;
    kept.add(digest);
    if (read.ok) queue.push(...read.refs.children);
    queue.push(...(referrers.get(digest) ?? []));
  }
  return kept;
}

/** Orders doomed revisions so that none goes before a doomed one pointing at it: a crash never leaves an index without its child. */
function parentsFirst(repo: Repo, doomed: string[]): string[] {
  const set = new Set(doomed);
  const pointsAt = (digest: string): string[] => {
    const read = repo.revisions.get(digest);
    if (!read?.ok) return [];
    return [...read.refs.children, ...(read.refs.subject !== undefined ? [read.refs.subject] : [])].filter((d) => set.has(d));
  };
  const pointers = new Map<string, number>(doomed.map((d) => [d, 0]));
  for (const digest of doomed) for (const target of pointsAt(digest)) pointers.set(target, (pointers.get(target) ?? 0) + 1);
  const order: string[] = [];
  const ready = doomed.filter((d) => pointers.get(d) === 0);
  for (let digest = ready.pop(); digest !== undefined; digest = ready.pop()) {
    order.push(digest);
    for (const target of pointsAt(digest)) {
      const left = (pointers.get(target) ?? 0) - 1;
      pointers.set(target, left);
      if (left === 0) ready.push(target);
    }
  }
  // Content addressing rules out cycles; should one appear anyway, nothing is lost by deleting the rest.
  const placed = new Set(order);
  return [...order, ...doomed.filter((d) => !placed.has(d))];
}

interface Marks {
  /** Kept: needed by a kept manifest, or mentioned by an unreadable one. */
  blobs: Set<string>;
  /** Needed for sure; those not stored are damage worth reporting. */
  needed: Set<string>;
  manifests: number;
}

/**
 * Follows manifests through the shared blob store, not per repository, so a
 * child stored only elsewhere still keeps its content. Digests mentioned by
 * an unreadable manifest are followed as manifests if they read as one.
 */
async function mark(layout: Layout, reads: Map<string, ManifestRead>, roots: string[], pinned: string[]): Promise<Marks> {
  const marks: Marks = { blobs: new Set(pinned), needed: new Set(), manifests: 0 };
  const queue = roots.map((digest) => ({ digest, sure: true }));
  const followed = new Set<string>();
  for (let item = queue.pop(); item !== undefined; item = queue.pop()) {
    marks.blobs.add(item.digest);
    if (item.sure) marks.needed.add(item.digest);
    if (followed.has(item.digest)) continue;
    followed.add(item.digest);
    const read = await readManifestCached(layout, reads, item.digest);
    if (read.ok) {
      marks.manifests++;
      for (const blob of read.refs.blobs) marks.blobs.add(blob);
      if (item.sure) for (const blob of read.refs.blobs) marks.needed.add(blob);
      queue.push(...read.refs.children.map((digest) => ({ digest, sure: item.sure })));
    } else if (item.sure) {
      queue.push(...read.mentioned.map((digest) => ({ digest, sure: false })));
    }
  }
  return marks;
}

// ---- removing

async function deleteBlob(layout: Layout, digest: string): Promise<void> {
  const data = layout.blobData(digest);
  // Unlinking `data` is the step readers see; the folder may still hold a killed write's temp file.
  await rm(data, { force: true });
  await rm(dirname(data), { recursive: true, force: true });
  await rmdir(dirname(dirname(data))).catch(() => undefined);
}

async function removeStaleUploads(layout: Layout, repos: Repo[], dryRun: boolean, log: (line: string) => void): Promise<number> {
  const cutoff = Date.now() - STALE_MS;
  let removed = 0;
  for (const repo of repos) {
    const uploads = join(layout.repoDir(repo.name), '_uploads');
    for (const entry of await listDir(uploads)) {
      const dir = join(uploads, entry.name);
      if (!entry.isDirectory() || (await lastTouched(dir)) > cutoff) continue;
      log(`${dryRun ? 'would remove' : 'removing'} stale upload ${repo.name}/${entry.name}`);
      removed++;
      if (!dryRun) await rm(dir, { recursive: true, force: true });
    }
  }
  return removed;
}

/** The newest mtime of an upload folder and its files: every chunk appended touches `data`. */
async function lastTouched(dir: string): Promise<number> {
  const times = [(await stat(dir)).mtimeMs];
  for (const entry of await listDir(dir)) {
    const st = await stat(join(dir, entry.name)).catch(() => undefined);
    if (st) times.push(st.mtimeMs);
  }
  return Math.max(...times);
}
