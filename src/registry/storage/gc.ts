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
import { acquireDataLock } from './data-lock.js';
import { fsyncDir, isMissing, listDir, removeLink, sweepTemp } from './files.js';
import { createFilesystemStorage } from './filesystem.js';
import { keptRevisions, mark, parentsFirst, type Marks } from './gc-mark.js';
import { listBlobs, loadRepos, type ManifestRead, type Repo, type StoredBlob } from './gc-scan.js';
import { Layout } from './layout.js';
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
