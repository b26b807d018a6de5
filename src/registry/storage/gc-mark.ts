/**
 * Deciding, for gc (./gc.ts): which revisions a repository keeps, the order
 * the doomed ones go in, and marking every blob the kept manifests need.
 */
import { readManifestCached, type ManifestRead, type Repo } from './gc-scan.js';
import type { Layout } from './layout.js';

/**
 * Tagged revisions, then to a fixpoint the children of kept indexes and the
 * referrers of kept manifests: signatures and provenance attached through
 * the referrers API are untagged on purpose.
 */
export function keptRevisions(repo: Repo, deleteUntagged: boolean): Set<string> {
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
export function parentsFirst(repo: Repo, doomed: string[]): string[] {
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

export interface Marks {
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
export async function mark(layout: Layout, reads: Map<string, ManifestRead>, roots: string[], pinned: string[]): Promise<Marks> {
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
