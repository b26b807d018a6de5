/**
 * `chartprov copy oci://SRC/…/name[:tag|@digest] oci://DST/path`: chart
 * versions from one repository to another, possibly on another registry,
 * with everything that refers to them (provenance, cosign/notation
 * signatures, SBOMs). Manifests and blobs are copied byte for byte, so
 * digests are the same on both sides; referrers are re-indexed the way the
 * destination keeps them (referrers API, or the fallback tag rebuilt entry
 * by entry). Whatever the destination has is skipped after a HEAD, so a
 * re-run after an interruption copies only what is missing.
 */
import { ChartNotFoundError, UsageError, VersionNotFoundError } from '../errors.js';
import type { RegistryClient } from '../oci/client.js';
import { parseHelmManifest } from '../oci/helm-artifact.js';
import { chartRepository, formatOciReference, parseOciReference, type OciReference } from '../oci/reference.js';
import { hasReferrersApi, type ReferrersMode } from '../oci/referrers.js';
import type { Repository } from '../oci/repository.js';
import { sortTagsBySemver, tagFromVersion, versionFromTag } from '../oci/version.js';
import { addStats, ContentCopier, emptyStats, Limiter, type CopyStats } from './copy-content.js';
import { publishVersion, transferVersion, type CopyContext, type VersionCopy } from './copy-version.js';
import { runBatch, type CodedError } from './pool.js';
import { withRegistryClient, type RegistryOptions } from './registry-client.js';
import { resolveChart } from './resolve-chart.js';

export type { CopyStats } from './copy-content.js';
export type { CopiedReferrer, VersionCopy } from './copy-version.js';

/** Connection settings of one side, overriding the shared ones (`plainHttp`, TLS) for that side only. */
export type CopySideOptions = Pick<RegistryOptions, 'plainHttp' | 'caFile' | 'certFile' | 'keyFile' | 'insecureSkipTlsVerify'>;

export interface CopyChartsOptions extends RegistryOptions {
  /** `oci://host/path/name` (with `version`, or the highest version), `…:tag`, `…@sha256:…`. */
  source: string;
  /** `oci://host/path`: the chart lands in `path/<name>` as with push; a path already ending in `/<name>` is taken as is. */
  destination: string;
  /** Exact version or SemVer range (Helm's rules; one version: the highest match). */
  version?: string;
  /** Every tag of the source repository (fallback-tag `sha256-…` tags travel as referrers, not as tags). */
  allVersions?: boolean;
  /** Versions transferring at once (default 4). */
  jobs?: number;
  /** The source's own plain-http/TLS settings (default: the shared ones). */
  sourceOptions?: CopySideOptions;
  /** The destination's own plain-http/TLS settings (default: the shared ones). */
  destinationOptions?: CopySideOptions;
  /** Replace a destination tag that names another manifest (default: that version fails with DESTINATION_EXISTS). */
  force?: boolean;
  /** Pause before re-checking a fallback index for concurrent writers (attachReferrer's settleMs). */
  settleMs?: number;
  onProgress?: (event: CopyProgress) => void;
}

export type CopyProgress =
  | { type: 'start'; total: number }
  /** Running total of bytes sent to the destination. */
  | { type: 'bytes'; bytes: number }
  | { type: 'version'; done: number; total: number; result: CopyVersionResult };

export type CopyVersionResult =
  | ({
      ok: true;
      /** The tag copied (absent when a digest without a chart version was copied). */
      tag?: string;
      version?: string;
      /** `oci://DST/path/name:tag` (or `@digest`). */
      reference: string;
    } & VersionCopy)
  | { ok: false; tag?: string; version?: string; source: string; error: CodedError };

export interface CopyChartsResult {
  /** `oci://host/path/name` */
  source: string;
  /** `oci://host/path/name` */
  destination: string;
  /** How each side keeps referrers. */
  referrers: { source: ReferrersMode; destination: ReferrersMode };
  /** Versions whose manifest or tag was written now. */
  copied: number;
  /** Versions the destination had (their referrers were still checked). */
  skipped: number;
  failed: number;
  referrersCopied: number;
  stats: CopyStats;
  results: CopyVersionResult[];
}

interface Item {
  /** What to fetch from the source: a tag or a digest. */
  reference: string;
  tag?: string;
}

export async function copyCharts(opts: CopyChartsOptions): Promise<CopyChartsResult> {
  const jobs = opts.jobs ?? 4;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`jobs must be a positive integer, not ${jobs}`);
  const srcRef = parseOciReference(opts.source, { requireScheme: true });
  if (opts.allVersions && (srcRef.tag || srcRef.digest || opts.version)) {
    throw new UsageError(`--all-versions copies every tag; ${opts.version ? `--version ${opts.version}` : opts.source} names one`, {
      hint: 'give oci://HOST/PATH/NAME with --all-versions, or drop --all-versions',
    });
  }
  if (opts.version && (srcRef.tag || srcRef.digest)) {
    throw new UsageError(
      `${opts.source} already names a ${srcRef.digest ? 'digest' : 'tag'}; --version ${opts.version} cannot also apply`,
      {
        hint: 'give either oci://…/NAME --version V or oci://…/NAME:TAG',
      },
    );
  }
  const dstRef = destinationRepository(opts.destination, srcRef);
  if (dstRef.registry === srcRef.registry && dstRef.repository === srcRef.repository) {
    throw new UsageError(`source and destination are the same repository (${formatOciReference(dstRef)})`, {
      hint: 'copy to another repository or registry',
    });
  }
  return withCopyClients(opts, srcRef.registry, dstRef.registry, async (srcClient, dstClient) => {
    const src = srcClient.repository(srcRef.registry, srcRef.repository);
    const dst = dstClient.repository(dstRef.registry, dstRef.repository);
    // The destination is probed only after the copy (see below); the source now, to plan the referrer lookups.
    const srcApi = await hasReferrersApi(src);
    const { items, tags } = await planItems(srcClient, src, srcRef, opts);
    // Many versions: one tag list of the destination instead of a HEAD per version that is not there.
    const destinationTags = items.length > 1 ? await existingTags(dst) : undefined;
    opts.onProgress?.({ type: 'start', total: items.length });

    const ctx: CopyContext = {
      copier: new ContentCopier(src, dst, {
        mount: srcRef.registry === dstRef.registry,
        onBytes: opts.onProgress ? (bytes) => opts.onProgress!({ type: 'bytes', bytes }) : undefined,
      }),
      src,
      dst,
      sourceMode: srcApi ? 'api' : 'fallback',
      force: Boolean(opts.force),
      ...(tags ? { sourceTags: new Set(tags) } : {}),
      ...(destinationTags ? { destinationTags } : {}),
      ...(opts.settleMs === undefined ? {} : { settleMs: opts.settleMs }),
    };
    // Transfers are bounded by --jobs; publishing (mostly waiting out the
    // fallback index's settle pauses) gets a wider bound of its own.
    const transfers = new Limiter(jobs);
    const publishes = new Limiter(Math.max(32, jobs * 8));
    const dstBase = { registry: dstRef.registry, repository: dstRef.repository };
    const results = await runBatch<Item, CopyVersionResult>(
      items,
      items.length,
      async (item) => {
        const moved = await transfers.run(() => transferVersion(ctx, item.reference, item.tag));
        const done = await publishes.run(() => publishVersion(ctx, moved, item.tag));
        return {
          ok: true,
          ...(item.tag ? { tag: item.tag, version: versionFromTag(item.tag) } : {}),
          reference: formatOciReference(item.tag ? { ...dstBase, tag: item.tag } : { ...dstBase, digest: done.digest }),
          ...done,
        };
      },
      (item, error) => ({
        ok: false,
        ...(item.tag ? { tag: item.tag, version: versionFromTag(item.tag) } : {}),
        source: src.refText(item.reference),
        error,
      }),
      (result, done, total) => opts.onProgress?.({ type: 'version', done, total, result }),
    );

    // Probed last: some registries answer a repository that does not exist yet with 404
    // NAME_UNKNOWN, which reads as "no referrers API" (attachReferrer probes after the first push too).
    const dstApi = await hasReferrersApi(dst);
    const stats = emptyStats();
    let copied = 0;
    let skipped = 0;
    let referrersCopied = 0;
    for (const r of results) {
      if (!r.ok) continue;
      addStats(stats, r.stats);
      referrersCopied += r.referrersCopied;
      if (r.status === 'copied') copied++;
      else skipped++;
    }
    return {
      source: formatOciReference({ registry: srcRef.registry, repository: srcRef.repository }),
      destination: formatOciReference(dstBase),
      referrers: { source: srcApi ? 'api' : 'fallback', destination: dstApi ? 'api' : 'fallback' },
      copied,
      skipped,
      failed: results.length - copied - skipped,
      referrersCopied,
      stats,
      results,
    };
  });
}

/** `oci://host/path` + the source's name → `path/name`; `oci://host/path/name` stays as is. */
function destinationRepository(destination: string, srcRef: OciReference): OciReference {
  const base = parseOciReference(destination, { requireScheme: true, allowNoPath: true });
  if (base.tag || base.digest) {
    throw new UsageError(`the destination ${destination} names a ${base.tag ? 'tag' : 'digest'}; tags and digests come from the source`, {
      hint: 'give the destination as oci://HOST/PATH (the chart name is added) or oci://HOST/PATH/NAME',
    });
  }
  const name = srcRef.repository.split('/').at(-1)!;
  const last = base.repository.split('/').at(-1);
  return { registry: base.registry, repository: last === name ? base.repository : chartRepository(base, name) };
}

/** The tags of a repository; none when it does not exist yet. */
export async function existingTags(repo: Repository): Promise<Set<string>> {
  try {
    return new Set(await repo.listTags());
  } catch (err) {
    if (err instanceof ChartNotFoundError) return new Set();
    throw err;
  }
}

/** The source tags (or the one digest) to copy; `tags` is the full tag list when it was read. */
async function planItems(
  client: RegistryClient,
  src: Repository,
  srcRef: OciReference,
  opts: CopyChartsOptions,
): Promise<{ items: Item[]; tags?: string[] }> {
  if (opts.allVersions) {
    const tags = await src.listTags();
    const copyable = tags.filter((t) => !isFallbackTag(t));
    if (copyable.length === 0) throw new VersionNotFoundError(`${src} has no tags to copy`);
    const semver = sortTagsBySemver(copyable);
    const others = copyable.filter((t) => !semver.includes(t)).sort();
    return { items: [...semver, ...others].map((tag) => ({ reference: tag, tag })), tags };
  }
  if (srcRef.tag) return { items: [{ reference: srcRef.tag, tag: srcRef.tag }] };
  if (srcRef.digest) return { items: [{ reference: srcRef.digest, ...(await versionTagOf(src, srcRef.digest)) }] };
  // A version or range, or none (the highest), resolved as pull resolves it.
  const chart = await resolveChart(client, opts.source, opts.version);
  return { items: [{ reference: chart.tag!, tag: chart.tag! }] };
}

/** A chart copied by digest is tagged with its version at the destination, as helm push would tag it. */
async function versionTagOf(src: Repository, digest: string): Promise<{ tag?: string }> {
  const m = await src.fetchManifest(digest);
  let config;
  try {
    config = parseHelmManifest(m.bytes).config;
  } catch {
    return {}; // not a chart: copied by digest only
  }
  const bytes = await src.fetchBlobBytes(config, 1 << 20);
  try {
    const version = (JSON.parse(bytes.toString('utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? { tag: tagFromVersion(version) } : {};
  } catch {
    return {};
  }
}

/** `sha256-<hex>` (sha512 digests cut to 64 hex, as the spec's tag schema says): a fallback referrers index, not a version. */
function isFallbackTag(tag: string): boolean {
  return /^sha(?:256|512)-[a-f0-9]{64}$/.test(tag);
}

/**
 * One client per side, each with its own plain-http/TLS settings; one
 * client for both when they are the same registry (mounts, one token cache).
 */
async function withCopyClients<T>(
  opts: CopyChartsOptions,
  srcRegistry: string,
  dstRegistry: string,
  fn: (src: RegistryClient, dst: RegistryClient) => Promise<T>,
): Promise<T> {
  const registries = [...new Set([srcRegistry, dstRegistry])];
  const side = (o: CopySideOptions | undefined): RegistryOptions => ({
    ...opts,
    ...Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)),
    registries,
  });
  const srcOpts = side(opts.sourceOptions);
  const dstOpts = side(opts.destinationOptions);
  if (opts.client) return fn(opts.client, opts.client);
  if (srcRegistry === dstRegistry) {
    const keys: (keyof CopySideOptions)[] = ['plainHttp', 'caFile', 'certFile', 'keyFile', 'insecureSkipTlsVerify'];
    const differs = keys.filter((k) => (srcOpts[k] ?? false) !== (dstOpts[k] ?? false));
    if (differs.length > 0) {
      throw new UsageError(`source and destination are both on ${srcRegistry} but are given different ${differs.join(', ')}`, {
        hint: 'one registry has one set of connection settings: give them once (--plain-http, --ca-file, …)',
      });
    }
    return withRegistryClient(srcOpts, (client) => fn(client, client));
  }
  return withRegistryClient(srcOpts, (srcClient) => withRegistryClient(dstOpts, (dstClient) => fn(srcClient, dstClient)));
}
