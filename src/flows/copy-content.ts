/**
 * Content copying between two repositories for `chartprov copy`: blobs
 * streamed registry → registry (never held whole, checked against their
 * digest on the way), manifests byte for byte so their digests survive, and
 * everything the destination already has skipped after a HEAD. One copier
 * serves a whole run, so a blob that several versions share (the empty
 * config of every provenance referrer) is looked up and sent once.
 */
import { Readable } from 'node:stream';
import { RegistryError } from '../errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { isDigest } from '../oci/digest.js';
import { OCI_MANIFEST } from '../oci/helm-media.js';
import type { FetchedManifest, Repository } from '../oci/repository.js';

/** What a copy did, counted per request that changed (or found) something. */
export interface CopyStats {
  /** Blobs sent over the network to the destination. */
  blobsUploaded: number;
  /** Blobs linked from the source repository (same registry: cross-repository mount). */
  blobsMounted: number;
  /** Blobs the destination had already. */
  blobsPresent: number;
  bytesUploaded: number;
  /** Manifests (charts, referrers, index children) written to the destination. */
  manifestsPushed: number;
  manifestsPresent: number;
  tagsPushed: number;
}

export function emptyStats(): CopyStats {
  return { blobsUploaded: 0, blobsMounted: 0, blobsPresent: 0, bytesUploaded: 0, manifestsPushed: 0, manifestsPresent: 0, tagsPushed: 0 };
}

export function addStats(into: CopyStats, from: CopyStats): void {
  for (const k of Object.keys(into) as (keyof CopyStats)[]) into[k] += from[k];
}

/** The descriptors a manifest points at: blobs (config, layers) and child manifests (an index's). */
export interface ManifestParts {
  blobs: Descriptor[];
  children: Descriptor[];
  artifactType?: string;
  configMediaType?: string;
  annotations?: Record<string, string>;
}

export function manifestParts(m: FetchedManifest, what: string): ManifestParts {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(m.bytes.toString('utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new RegistryError(`${what} is not valid JSON`, undefined, { cause });
  }
  const descriptors = (v: unknown): Descriptor[] =>
    (Array.isArray(v) ? v : []).filter(
      (d): d is Descriptor =>
        !!d && typeof d === 'object' && typeof (d as Descriptor).digest === 'string' && isDigest((d as Descriptor).digest),
    );
  const config = body.config && typeof body.config === 'object' ? (body.config as Descriptor) : undefined;
  const blobs = [...(config && typeof config.digest === 'string' && isDigest(config.digest) ? [config] : []), ...descriptors(body.layers)];
  // OCI 1.1-rc artifact manifests kept their content under `blobs`.
  blobs.push(...descriptors(body.blobs));
  const parts: ManifestParts = { blobs, children: descriptors(body.manifests) };
  if (typeof body.artifactType === 'string') parts.artifactType = body.artifactType;
  if (config && typeof config.mediaType === 'string') parts.configMediaType = config.mediaType;
  if (body.annotations && typeof body.annotations === 'object') parts.annotations = body.annotations as Record<string, string>;
  return parts;
}

/** At most `n` tasks at once; the others wait in order. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly n: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export interface ContentCopierOptions {
  /** Source and destination are repositories of the same registry: mount blobs instead of sending them. */
  mount: boolean;
  /** Bytes sent to the destination so far (running total), for progress. */
  onBytes?: (total: number) => void;
}

export class ContentCopier {
  private readonly blobs = new Map<string, Promise<void>>();
  private readonly manifests = new Map<string, Promise<void>>();
  private bytesSent = 0;

  constructor(
    readonly src: Repository,
    readonly dst: Repository,
    private readonly opts: ContentCopierOptions,
  ) {}

  /** A blob into the destination, unless it is there; one transfer per digest and run. */
  copyBlob(desc: Descriptor, tally: CopyStats): Promise<void> {
    let done = this.blobs.get(desc.digest);
    if (!done) {
      done = this.transferBlob(desc, tally);
      // A failed transfer may be tried again by another version.
      done.catch(() => this.blobs.delete(desc.digest));
      this.blobs.set(desc.digest, done);
    }
    return done;
  }

  private async transferBlob(desc: Descriptor, tally: CopyStats): Promise<void> {
    let opened: Promise<Readable> | undefined;
    let open: () => Promise<Readable>;
    if (this.opts.mount) {
      // Same registry: pushBlob HEADs, then mounts; the source is read only if the mount is refused.
      open = () => (opened ??= this.src.openBlob({ digest: desc.digest, size: desc.size }));
    } else {
      if ((await this.dst.statBlob(desc.digest, { forPush: true })) !== undefined) {
        tally.blobsPresent++;
        return;
      }
      // Absent: the source GET goes out while the upload session is opened (one round trip less).
      opened = this.src.openBlob({ digest: desc.digest, size: desc.size });
      opened.catch(() => undefined);
      open = () => opened!;
    }
    const stream = lazyStream(open);
    let counted = 0;
    try {
      const pushed = await this.dst.pushBlob(
        { stream, size: desc.size },
        {
          digest: desc.digest,
          ...(this.opts.mount ? { mountFrom: [this.src.name] } : { assumeAbsent: true }),
          onProgress: (sent) => {
            this.bytesSent += sent - counted;
            counted = sent;
            this.opts.onBytes?.(this.bytesSent);
          },
        },
      );
      if (pushed.how === 'exists') tally.blobsPresent++;
      else if (pushed.how === 'mounted') tally.blobsMounted++;
      else {
        tally.blobsUploaded++;
        tally.bytesUploaded += pushed.size;
      }
    } finally {
      stream.destroy();
      // A source response nobody read (the upload failed first): release its connection.
      opened?.then(
        (s) => s.destroy(),
        () => undefined,
      );
    }
  }

  /**
   * What `m` needs before it can be pushed: its blobs and, for an index, its
   * child manifests (each with its own content), in parallel.
   */
  async copyContent(m: FetchedManifest, tally: CopyStats, what: string): Promise<void> {
    const parts = manifestParts(m, what);
    await Promise.all([
      ...parts.blobs.map((b) => this.copyBlob(b, tally)),
      ...parts.children.map((c) => this.copyManifestByDigest(c.digest, tally, `${what} → ${c.digest}`)),
    ]);
  }

  /**
   * What a referrer needs before attachReferrer stores it (an image manifest:
   * its blobs) — or, for another kind of manifest (attachReferrer writes image
   * manifests only), the manifest itself, by digest. Returns true when that
   * pushed the manifest. Unless `likelyAbsent`, a referrer the destination has
   * is left alone after one HEAD.
   */
  async copyReferrerContent(m: FetchedManifest, tally: CopyStats, likelyAbsent: boolean): Promise<boolean> {
    if (m.mediaType !== OCI_MANIFEST) {
      const own = emptyStats();
      await this.copyManifestByDigest(m.digest, own, `referrer ${m.digest}`, m, likelyAbsent);
      addStats(tally, own);
      return own.manifestsPushed > 0;
    }
    if (!likelyAbsent && (await this.dst.headManifest(m.digest))) return false;
    await this.copyContent(m, tally, `referrer ${m.digest}`);
    return false;
  }

  /**
   * A manifest and everything under it, fetched from the source by digest and
   * stored by digest. Normally a HEAD first, so a re-run touches nothing under
   * a manifest that is there; with the manifest at hand and `likelyAbsent` (its
   * chart's tag is missing: a fresh copy) straight to the blobs, which are
   * still HEADed one by one, and the PUT (storing a manifest twice is harmless).
   */
  copyManifestByDigest(digest: string, tally: CopyStats, what: string, fetched?: FetchedManifest, likelyAbsent = false): Promise<void> {
    let done = this.manifests.get(digest);
    if (!done) {
      done = (async () => {
        if (!(fetched && likelyAbsent) && (await this.dst.headManifest(digest))) {
          tally.manifestsPresent++;
          return;
        }
        const m = fetched ?? (await this.src.fetchManifest(digest));
        await this.copyContent(m, tally, what);
        await this.dst.pushManifest(digest, m.bytes, m.mediaType);
        tally.manifestsPushed++;
      })();
      done.catch(() => this.manifests.delete(digest));
      this.manifests.set(digest, done);
    }
    return done;
  }
}

/**
 * A stream that opens its source on the first read: a blob the destination
 * already has (or can mount) costs no GET, and one that is uploaded flows
 * through with back-pressure, never buffered whole.
 */
function lazyStream(open: () => Promise<Readable>): Readable {
  return Readable.from(
    (async function* () {
      const source = await open();
      try {
        for await (const chunk of source) yield chunk as Buffer;
      } finally {
        source.destroy();
      }
    })(),
    { objectMode: false },
  );
}
