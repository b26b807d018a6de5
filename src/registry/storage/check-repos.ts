/**
 * The repository half of the storage check (./check.ts): each repository's
 * blob links, manifests (record, bytes, and every blob and child manifest
 * they need, followed through the shared blob store as gc marks them), tags
 * and uploads. Referrer links are not judged: one written before its
 * manifest's revision is allowed, and the referrers API skips it.
 */
import { join } from 'node:path';
import { isDigest } from '../../oci/digest.js';
import type { Findings } from './check.js';
import { isTempName, listDir, readIfExists } from './files.js';
import { findRepositories, readManifestCached, type ManifestRead } from './gc-scan.js';
import { isTag } from './names.js';

const ALGORITHMS = ['sha256', 'sha512'] as const;

/** Checks `jobs` repositories at a time: the work is many small reads, which overlap well. */
export async function checkRepositories(f: Findings, jobs: number): Promise<void> {
  const reads = new Map<string, ManifestRead>();
  const followed = new Set<string>();
  const repos = await findRepositories(f.layout);
  let next = 0;
  const worker = async () => {
    for (let repo = repos[next++]; repo !== undefined; repo = repos[next++]) {
      const held = await checkRevisions(f, repo, reads, followed);
      if (held.size > 0) f.report.repositories++;
      await checkLinks(f, repo);
      await checkTags(f, repo, held);
      for (const upload of await listDir(join(f.layout.repoDir(repo), '_uploads'))) if (upload.isDirectory()) f.report.uploads++;
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  await findTempFiles(f, f.layout.reposDir);
}

/** A link file's text, or undefined after noting the folder as a leftover (a write killed before its rename). */
async function readLink(f: Findings, dir: string): Promise<string | undefined> {
  const text = await readIfExists(join(dir, 'link'));
  if (text === undefined) f.leftover('empty-folder', dir);
  return text?.toString('utf8');
}

async function checkLinks(f: Findings, repo: string): Promise<void> {
  for (const alg of ALGORITHMS) {
    const base = join(f.layout.repoDir(repo), '_layers', alg);
    for (const entry of await listDir(base)) {
      const digest = `${alg}:${entry.name}`;
      if (!entry.isDirectory() || !isDigest(digest)) continue;
      const text = await readLink(f, join(base, entry.name));
      if (text === undefined) continue;
      f.report.links++;
      const path = f.rel(f.layout.layerLink(repo, digest));
      if (text !== digest)
        f.problem({
          kind: 'link-dangling',
          path,
          repository: repo,
          digest,
          message: `${repo} links ${digest}, but its link holds ${text.slice(0, 140)}`,
        });
      else if (!f.stored.has(digest))
        f.problem({ kind: 'link-dangling', path, repository: repo, digest, message: `${repo} links blob ${digest}, which is not stored` });
    }
  }
}

/** The repository's revisions; each one's manifest must be stored and readable, and so must all it needs. */
async function checkRevisions(f: Findings, repo: string, reads: Map<string, ManifestRead>, followed: Set<string>): Promise<Set<string>> {
  const held = new Set<string>();
  for (const alg of ALGORITHMS) {
    const base = join(f.layout.revisionsDir(repo), alg);
    for (const entry of await listDir(base)) {
      const digest = `${alg}:${entry.name}`;
      if (!entry.isDirectory() || !isDigest(digest)) continue;
      const text = await readLink(f, join(base, entry.name));
      if (text === undefined) continue;
      const path = f.rel(f.layout.revisionLink(repo, digest));
      if (!isRevisionRecord(text, digest)) {
        f.problem({
          kind: 'manifest-invalid',
          path,
          repository: repo,
          digest,
          message: `the record of manifest ${digest} in ${repo} is unreadable`,
        });
        continue;
      }
      held.add(digest);
      f.report.manifests++;
      if (!f.stored.has(digest)) {
        f.problem({
          kind: 'manifest-missing',
          path,
          repository: repo,
          digest,
          message: `${repo} holds manifest ${digest}, which is not stored`,
        });
        continue;
      }
      await checkNeeds(f, repo, digest, reads, followed);
    }
  }
  return held;
}

function isRevisionRecord(text: string, digest: string): boolean {
  try {
    const record = JSON.parse(text) as { digest?: unknown; mediaType?: unknown } | null;
    return record?.digest === digest && typeof record.mediaType === 'string';
  } catch {
    return false;
  }
}

/** Follows a manifest and an index's children through the blob store; each manifest is followed once per check. */
async function checkNeeds(f: Findings, repo: string, root: string, reads: Map<string, ManifestRead>, followed: Set<string>): Promise<void> {
  const queue = [root];
  for (let digest = queue.pop(); digest !== undefined; digest = queue.pop()) {
    // A corrupt blob is reported once, as blob-corrupt, not again as a manifest that does not read.
    if (followed.has(digest) || f.corrupt.has(digest)) continue;
    followed.add(digest);
    const read = await readManifestCached(f.layout, reads, digest);
    if (!read.ok) {
      const path = f.rel(f.layout.blobData(digest));
      f.problem({ kind: 'manifest-invalid', path, repository: repo, digest, message: `manifest ${digest} in ${repo}: ${read.reason}` });
      continue;
    }
    const needs = [...read.refs.blobs.map((d) => ({ d, what: 'blob' })), ...read.refs.children.map((d) => ({ d, what: 'child manifest' }))];
    for (const { d, what } of needs) {
      if (!f.stored.has(d)) {
        const path = f.rel(f.layout.blobData(d));
        f.problem({
          kind: 'blob-missing',
          path,
          repository: repo,
          digest: d,
          message: `manifest ${digest} in ${repo} needs ${what} ${d}, which is not stored`,
        });
      } else if (what === 'child manifest') queue.push(d);
    }
  }
}

/** Tags must hold a digest of a manifest the repository holds. */
async function checkTags(f: Findings, repo: string, held: Set<string>): Promise<void> {
  const base = f.layout.tagsDir(repo);
  for (const entry of await listDir(base)) {
    if (!entry.isDirectory() || !isTag(entry.name)) continue;
    const text = await readLink(f, join(base, entry.name));
    if (text === undefined) continue;
    f.report.tags++;
    const tag = entry.name;
    const path = f.rel(f.layout.tagLink(repo, tag));
    if (!isDigest(text)) f.problem({ kind: 'tag-invalid', path, repository: repo, tag, message: `tag ${repo}:${tag} holds no digest` });
    else if (!held.has(text))
      f.problem({
        kind: 'tag-dangling',
        path,
        repository: repo,
        tag,
        digest: text,
        message: `tag ${repo}:${tag} names ${text}, which ${repo} does not hold`,
      });
  }
}

async function findTempFiles(f: Findings, dir: string): Promise<void> {
  for (const entry of await listDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await findTempFiles(f, path);
    else if (isTempName(entry.name)) f.leftover('temp-file', path);
  }
}
