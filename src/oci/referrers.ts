/**
 * Artifacts that refer to a manifest (signatures, provenance, SBOMs): the
 * OCI 1.1 referrers API where the registry has it, else the fallback tag
 * schema (an image index at tag `sha256-<hex>` that clients keep up to date).
 * See ../shared/docs/oci-registries.md §1.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ReferrerRejectedError, ReferrersConflictError, RegistryError, RegistryRateLimitedError } from '../errors.js';
import type { Descriptor } from './descriptor.js';
import { digestOf, isDigest } from './digest.js';
import { OCI_INDEX, OCI_MANIFEST } from './helm-media.js';
import type { Repository } from './repository.js';

/** Where a registry keeps referrers. */
export type ReferrersMode = 'api' | 'fallback';

/** A referrer as an index lists it: a manifest descriptor with its artifact type and annotations. */
export interface ReferrerDescriptor extends Descriptor {
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ReferrerList {
  referrers: ReferrerDescriptor[];
  /** Where they were found. */
  mode: ReferrersMode;
}

const ZERO_DIGEST = `sha256:${'0'.repeat(64)}`;
/** Referrers one subject may have before we call the list unreasonable (memory is bounded by it). */
const MAX_REFERRERS = 10_000;

// One probe per repository and client: the answer does not change within a
// run. Per repository, not per registry: a registry with the API may still
// answer 404 for a repository that does not exist yet (a copy's destination).
const probes = new WeakMap<object, Map<string, Promise<boolean>>>();

/**
 * Whether the registry has the referrers API: a GET for a digest nothing can
 * refer to answers 200 with an image index (oci-registries.md §1).
 */
export function hasReferrersApi(repo: Repository): Promise<boolean> {
  let perClient = probes.get(repo.client);
  if (!perClient) probes.set(repo.client, (perClient = new Map()));
  const key = `${repo.registry}/${repo.name}`;
  let probe = perClient.get(key);
  if (!probe) {
    probe = repo.probeReferrers(ZERO_DIGEST).then((answer) => {
      // A repository that does not exist yet says nothing about the API: ask again once it does.
      if (answer === 'unknown-repository') perClient!.delete(key);
      return answer === 'supported';
    });
    // A failed probe (network) is not an answer either.
    probe.catch(() => perClient!.delete(key));
    perClient.set(key, probe);
  }
  return probe;
}

function knowApi(repo: Repository): void {
  let perClient = probes.get(repo.client);
  if (!perClient) probes.set(repo.client, (perClient = new Map()));
  perClient.set(`${repo.registry}/${repo.name}`, Promise.resolve(true));
}

/** The fallback tag of a subject (sha512 digests are cut, as the spec says). */
export function fallbackTag(subject: string): string {
  if (!isDigest(subject)) throw new RegistryError(`not a digest: ${subject}`);
  // The spec's referrers tag schema: `<alg>-<ref>`, alg cut to 32 and ref to 64 characters.
  const [alg, ref] = subject.split(':') as [string, string];
  return `${alg.slice(0, 32)}-${ref.slice(0, 64)}`;
}

function asReferrers(manifests: unknown[], subject: string): ReferrerDescriptor[] {
  const out: ReferrerDescriptor[] = [];
  const seen = new Set<string>();
  for (const m of manifests) {
    const d = m as Partial<ReferrerDescriptor> | null;
    if (!d || typeof d.digest !== 'string' || !isDigest(d.digest) || typeof d.mediaType !== 'string' || typeof d.size !== 'number') continue;
    if (d.digest === subject || seen.has(d.digest)) continue;
    seen.add(d.digest);
    const r: ReferrerDescriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
    if (typeof d.artifactType === 'string') r.artifactType = d.artifactType;
    if (d.annotations && typeof d.annotations === 'object') r.annotations = { ...(d.annotations as Record<string, string>) };
    out.push(r);
  }
  return out;
}

/** The fallback index at `sha256-<hex>`, or an empty list when there is none. */
async function readFallbackIndex(repo: Repository, subject: string): Promise<ReferrerDescriptor[]> {
  return asReferrers((await readFallbackDocument(repo, subject)).manifests, subject);
}

/**
 * The fallback index as stored: its entries verbatim (another tool's fields
 * and all) and its other top-level fields, so that a rewrite only appends.
 */
async function readFallbackDocument(repo: Repository, subject: string): Promise<{ manifests: unknown[]; rest: Record<string, unknown> }> {
  const tag = fallbackTag(subject);
  const found = await repo.headManifest(tag);
  if (!found) return { manifests: [], rest: {} };
  const type = (found.mediaType ?? '').split(';')[0]!.trim();
  if (type !== '' && type !== OCI_INDEX)
    throw new RegistryError(`tag ${repo.refText(tag)} holds a ${type}, not a referrers index; it is left as it is`, undefined, {
      hint: 'another tool uses that tag for something else; move that content and run the command again',
    });
  const { bytes } = await repo.fetchManifest(tag, [OCI_INDEX]);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new RegistryError(`the fallback referrers tag ${repo.refText(tag)} is not valid JSON`, undefined, {
      hint: 'it was written by another tool; delete the tag to let chartprov rebuild it',
    });
  }
  const { manifests, schemaVersion: _v, mediaType: _t, ...rest } = body;
  const list = Array.isArray(manifests) ? manifests : [];
  if (list.length > MAX_REFERRERS)
    throw new RegistryError(`the referrers index ${repo.refText(tag)} lists ${list.length} artifacts, more than ${MAX_REFERRERS}`);
  return { manifests: list, rest };
}
/** Every referrer of `subject`, optionally only those of one artifact type. */
export async function listReferrers(repo: Repository, subject: string, opts: { artifactType?: string } = {}): Promise<ReferrerList> {
  const keep = (list: ReferrerDescriptor[]) => (opts.artifactType ? list.filter((r) => r.artifactType === opts.artifactType) : list);
  if (await hasReferrersApi(repo)) {
    const index = await repo.fetchReferrersIndex(subject, opts.artifactType);
    // A registry may ignore the filter (no OCI-Filters-Applied): filter here either way.
    if (index) return { referrers: keep(asReferrers(index.manifests, subject)), mode: 'api' };
  }
  return { referrers: keep(await readFallbackIndex(repo, subject)), mode: 'fallback' };
}

export interface AttachResult {
  /** Digest of the referrer manifest. */
  digest: string;
  mode: ReferrersMode;
  /** False when the same manifest was already attached (nothing changed). */
  created: boolean;
}

export interface AttachOptions {
  /** Attempts at the fallback index before giving up on concurrent writers. */
  attempts?: number;
  /** How long to wait before checking again that a concurrent writer did not drop our entry. */
  settleMs?: number;
}

/**
 * Stores `manifest` (an image manifest whose `subject` is `subject`) and
 * makes it findable: through the referrers API when the registry indexes
 * it, else by adding it to the fallback index. Blobs the manifest names must
 * already be pushed.
 */
export async function attachReferrer(
  repo: Repository,
  subject: string,
  /**
   * The manifest bytes. Its index entry (artifactType, annotations) is read
   * from them; the other fields of the object form are ignored.
   */
  manifest: Uint8Array | { bytes: Uint8Array; artifactType?: string; annotations?: Record<string, string> },
  opts: AttachOptions = {},
): Promise<AttachResult> {
  const manifestBytes = manifest instanceof Uint8Array ? manifest : manifest.bytes;
  const digest = digestOf(manifestBytes);
  const entry = indexEntry(digest, manifestBytes);
  const existed = (await repo.headManifest(digest)) !== undefined;
  const pushed = existed ? { digest, subject: undefined } : await pushReferrer(repo, digest, manifestBytes, entry.mediaType);
  // The spec: a registry that indexed the manifest says so with OCI-Subject; without it the client keeps the fallback tag.
  if (pushed.subject === subject) {
    // Proof that the API exists here, whatever an earlier probe concluded: readers must use it too.
    knowApi(repo);
    return { digest, mode: 'api', created: !existed };
  }
  const api = await hasReferrersApi(repo);
  if (existed && api) return { digest, mode: 'api', created: false };
  const added = await addToFallbackIndex(repo, subject, entry, opts);
  return { digest, mode: api ? 'api' : 'fallback', created: !existed || added };
}

/** PUT of a referrer manifest; a registry that cannot store OCI 1.1 artifacts says so with a 400 (Docker Hub, older ECR). */
async function pushReferrer(repo: Repository, digest: string, bytes: Uint8Array, mediaType: string): Promise<{ digest: string; subject?: string }> {
  try {
    return await repo.pushManifest(digest, bytes, mediaType);
  } catch (err) {
    // Only a refusal of the manifest itself: a missing blob is another story, told as it is.
    const refused = err instanceof RegistryError && (err.status === 415 || (err.status === 400 && /MANIFEST_INVALID|UNSUPPORTED/.test(err.message)));
    if (refused) throw new ReferrerRejectedError(`${repo} refused the artifact that refers to the chart: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The fallback index entry of a manifest: its artifactType (else its config's media type) and annotations, as the spec says. */
function indexEntry(digest: string, bytes: Uint8Array): ReferrerDescriptor {
  let m: { mediaType?: unknown; artifactType?: unknown; config?: { mediaType?: unknown }; annotations?: unknown };
  try {
    m = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof m;
  } catch {
    throw new RegistryError(`the referrer ${digest} is not valid JSON`);
  }
  const artifactType = typeof m.artifactType === 'string' ? m.artifactType : typeof m.config?.mediaType === 'string' ? m.config.mediaType : undefined;
  const annotations = m.annotations && typeof m.annotations === 'object' ? (m.annotations as Record<string, string>) : undefined;
  return {
    mediaType: typeof m.mediaType === 'string' && m.mediaType !== '' ? m.mediaType : OCI_MANIFEST,
    digest,
    size: bytes.byteLength,
    ...(artifactType ? { artifactType } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

/**
 * Read-modify-write of the fallback index. The registry has no conditional
 * PUT (distribution ignores If-Match), so a concurrent writer can replace our
 * update with an index it read before it. After writing, our entry must
 * still be there after two pauses (long enough for such a writer's PUT to
 * land); if it is gone, add it again. Every writer does the same, so every
 * entry ends up present.
 */
async function addToFallbackIndex(repo: Repository, subject: string, entry: ReferrerDescriptor, opts: AttachOptions): Promise<boolean> {
  const attempts = opts.attempts ?? 8;
  const settleMs = opts.settleMs ?? 150;
  const tag = fallbackTag(subject);
  const present = async () => (await readFallbackIndex(repo, subject)).some((r) => r.digest === entry.digest);
  // A concurrent writer's read-to-write takes about as long as ours (same
  // registry, same load): pause at least twice that, so its PUT has landed.
  let cycleMs = 0;
  const presentAfterPause = async () => {
    await sleep(Math.max(settleMs, 2 * cycleMs) * (1 + Math.random()));
    return present();
  };
  let wrote = false;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const started = Date.now();
    const current = await readFallbackDocument(repo, subject);
    if (!asReferrers(current.manifests, subject).some((r) => r.digest === entry.digest)) {
      const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...current.manifests, entry], ...current.rest };
      try {
        // Sent once: a retry after a back-off would write what was read before it, over newer entries.
        await repo.pushManifest(tag, Buffer.from(JSON.stringify(index)), OCI_INDEX, { once: true });
      } catch (err) {
        if (!(err instanceof RegistryError || err instanceof RegistryRateLimitedError) || attempt === attempts - 1) throw err;
        // The registry may have stored it before the answer was lost: verify like any write of ours.
        wrote = true;
        await sleep(settleMs * (1 + Math.random()));
        continue;
      }
      wrote = true;
      cycleMs = Math.max(cycleMs, Date.now() - started);
    } else if (!wrote) {
      // Attached before (by us in an earlier run, or by another writer): nothing to do.
      return false;
    }
    if ((await presentAfterPause()) && (await presentAfterPause())) return true;
  }
  throw new ReferrersConflictError(`could not add ${entry.digest} to the referrers index ${repo.refText(tag)}: other writers kept replacing it`);
}
