/**
 * One repository as Harbor's artifact model sees it, read from storage:
 * every manifest parsed once, tags resolved to digests, and the relations
 * Harbor keeps in its database derived from the manifests themselves:
 * an index references its children, and a manifest with a `subject` is an
 * accessory of that subject (what the referrers API lists).
 */
import { isDigest } from '../../oci/digest.js';
import type { RegistryStorage } from '../storage/index.js';

export interface ChildDescriptor {
  digest: string;
  mediaType?: string;
  size?: number;
  platform?: Record<string, unknown>;
  annotations?: Record<string, string>;
  urls?: string[];
}

/** The fields of a stored manifest the API reports. */
export interface ManifestFacts {
  digest: string;
  /** Media type of the manifest or index itself. */
  mediaType: string;
  /** Length of the manifest bytes. */
  bytes: number;
  config?: { mediaType?: string; digest?: string; size: number };
  /** Sum of the layer sizes the manifest declares. */
  layersSize: number;
  lastLayerAnnotations?: Record<string, string>;
  artifactType?: string;
  annotations?: Record<string, string>;
  subject?: string;
  /** Children of an index. */
  children: ChildDescriptor[];
}

export class RepositoryView {
  private readonly accessoriesBySubject = new Map<string, ManifestFacts[]>();
  private readonly parents = new Map<string, Set<string>>();

  private constructor(
    readonly name: string,
    readonly manifests: Map<string, ManifestFacts>,
    readonly tags: Map<string, string[]>,
  ) {
    for (const m of manifests.values()) {
      if (m.subject !== undefined) {
        const list = this.accessoriesBySubject.get(m.subject) ?? [];
        list.push(m);
        this.accessoriesBySubject.set(m.subject, list);
      }
      for (const child of m.children) {
        const set = this.parents.get(child.digest) ?? new Set<string>();
        set.add(m.digest);
        this.parents.set(child.digest, set);
      }
    }
  }

  static async load(storage: RegistryStorage, name: string): Promise<RepositoryView> {
    const manifests = new Map<string, ManifestFacts>();
    for (const digest of await storage.listManifests(name)) {
      const stored = await storage.getManifest(name, digest);
      if (stored) manifests.set(stored.digest, parseManifest(stored.digest, stored.mediaType, stored.bytes));
    }
    const tags = new Map<string, string[]>();
    for (const tag of await storage.listTags(name)) {
      const stored = await storage.getManifest(name, tag);
      if (!stored || !manifests.has(stored.digest)) continue;
      const list = tags.get(stored.digest) ?? [];
      list.push(tag);
      tags.set(stored.digest, list);
    }
    return new RepositoryView(name, manifests, tags);
  }

  get exists(): boolean {
    return this.manifests.size > 0;
  }

  tagsOf(digest: string): string[] {
    return this.tags.get(digest) ?? [];
  }

  /** The digest a tag or digest names here, if the repository holds it. */
  resolve(reference: string): string | undefined {
    if (isDigest(reference)) return this.manifests.has(reference) ? reference : undefined;
    for (const [digest, names] of this.tags) if (names.includes(reference)) return digest;
    return undefined;
  }

  accessoriesOf(digest: string): ManifestFacts[] {
    return this.accessoriesBySubject.get(digest) ?? [];
  }

  /** Indexes here that list `digest` as a child. */
  parentsOf(digest: string): string[] {
    return [...(this.parents.get(digest) ?? [])];
  }

  /**
   * What Harbor lists as the repository's artifacts: not accessories, and
   * not the untagged children of an index (they show under their index).
   */
  artifacts(): ManifestFacts[] {
    return [...this.manifests.values()].filter(
      (m) => m.subject === undefined && (this.tagsOf(m.digest).length > 0 || this.parentsOf(m.digest).length === 0),
    );
  }

  /** Harbor's artifact size: the manifest, its config and layers; an index adds its children's sizes. */
  sizeOf(digest: string, seen = new Set<string>()): number {
    const m = this.manifests.get(digest);
    if (!m || seen.has(digest)) return 0;
    seen.add(digest);
    let size = m.bytes + (m.config?.size ?? 0) + m.layersSize;
    for (const child of m.children) size += this.manifests.has(child.digest) ? this.sizeOf(child.digest, seen) : (child.size ?? 0);
    return size;
  }
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

function sizeValue(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** Reads what the API needs from manifest bytes; bytes that are not a JSON object give a bare entry rather than an error. */
export function parseManifest(digest: string, mediaType: string, bytes: Buffer): ManifestFacts {
  const facts: ManifestFacts = { digest, mediaType, bytes: bytes.length, layersSize: 0, children: [] };
  let parsed: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return facts;
    parsed = value as Record<string, unknown>;
  } catch {
    return facts;
  }
  const config = parsed.config as Record<string, unknown> | undefined;
  if (typeof config === 'object' && config !== null) {
    facts.config = { size: sizeValue(config.size) };
    if (typeof config.mediaType === 'string') facts.config.mediaType = config.mediaType;
    if (typeof config.digest === 'string' && isDigest(config.digest)) facts.config.digest = config.digest;
  }
  if (Array.isArray(parsed.layers)) {
    for (const layer of parsed.layers) facts.layersSize += sizeValue((layer as Record<string, unknown> | null)?.size);
    const last = parsed.layers[parsed.layers.length - 1] as Record<string, unknown> | null | undefined;
    const annotations = stringMap(last?.annotations);
    if (annotations) facts.lastLayerAnnotations = annotations;
  }
  if (Array.isArray(parsed.manifests)) {
    for (const entry of parsed.manifests) {
      const child = entry as Record<string, unknown> | null;
      if (typeof child?.digest !== 'string' || !isDigest(child.digest)) continue;
      const desc: ChildDescriptor = { digest: child.digest, size: sizeValue(child.size) };
      if (typeof child.mediaType === 'string') desc.mediaType = child.mediaType;
      if (typeof child.platform === 'object' && child.platform !== null) desc.platform = child.platform as Record<string, unknown>;
      const annotations = stringMap(child.annotations);
      if (annotations) desc.annotations = annotations;
      if (Array.isArray(child.urls)) desc.urls = child.urls.filter((u): u is string => typeof u === 'string');
      facts.children.push(desc);
    }
  }
  if (typeof parsed.artifactType === 'string' && parsed.artifactType !== '') facts.artifactType = parsed.artifactType;
  const annotations = stringMap(parsed.annotations);
  if (annotations) facts.annotations = annotations;
  const subject = parsed.subject as Record<string, unknown> | undefined;
  if (typeof subject?.digest === 'string' && isDigest(subject.digest)) facts.subject = subject.digest;
  return facts;
}
