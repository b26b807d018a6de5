/**
 * Reading what is stored, for gc (./gc.ts): the repositories, their `_layers`
 * links and tags, the blobs in the shared store, and what each manifest's
 * bytes point at. Reads only; deciding is ./gc-mark.ts, removing is ./gc.ts.
 */
import { dirname, join } from 'node:path';
import { digestAlgorithm, digestOf, isDigest } from '../../oci/digest.js';
import { fileSize, isFile, listDir, readIfExists } from './files.js';
import type { Layout } from './layout.js';
import { checkRepoName } from './names.js';
import type { RegistryStorage } from './types.js';

// Far above the 4 MiB a manifest PUT accepts: anything larger is no manifest we stored.
const MANIFEST_READ_LIMIT = 16 << 20;
const ALGORITHMS = ['sha256', 'sha512'] as const;
const DIGEST_IN_TEXT = /sha256:[a-f0-9]{64}(?![a-f0-9])|sha512:[a-f0-9]{128}(?![a-f0-9])/g;
const REPO_PARTS = new Set(['_manifests', '_layers', '_uploads']);

/** What a manifest points at. Its `subject` is not here: a referrer points at its subject, it does not keep it. */
export interface ManifestRefs {
  blobs: string[];
  children: string[];
  subject?: string;
}

export type ManifestRead = { ok: true; refs: ManifestRefs } | { ok: false; reason: string; mentioned: string[] };

export interface Repo {
  name: string;
  revisions: Map<string, ManifestRead>;
  /** Digests the tags point at. */
  tagged: Set<string>;
  /** Digests linked into the repository (`_layers`). */
  links: string[];
  /** Why its revisions cannot be judged; any doubt keeps the whole repository. */
  doubts: string[];
}

export interface StoredBlob {
  digest: string;
  size: number;
}

export async function loadRepos(layout: Layout, storage: RegistryStorage, reads: Map<string, ManifestRead>): Promise<Repo[]> {
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
export async function findRepositories(layout: Layout): Promise<string[]> {
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
export async function listBlobs(layout: Layout): Promise<{ blobs: StoredBlob[]; leftovers: string[] }> {
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

export async function readManifestCached(layout: Layout, reads: Map<string, ManifestRead>, digest: string): Promise<ManifestRead> {
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
