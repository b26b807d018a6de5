/**
 * One chart version of `chartprov copy`: its manifest and blobs byte for
 * byte, then every referrer (and their referrers), then the tag — last, so
 * a tag never shows at the destination before the chart's signatures do.
 *
 * Two phases: `transfer` moves content (bounded by --jobs); `publish` makes
 * the referrers findable (the fallback index's read-modify-write spends
 * most of its time waiting for concurrent writers to show themselves, so it
 * runs outside the --jobs bound) and writes the tag.
 */
import { DestinationExistsError, RegistryError, VersionNotFoundError } from '../errors.js';
import { OCI_INDEX } from '../oci/helm-media.js';
import { isDigest } from '../oci/digest.js';
import { attachReferrer, fallbackTag, listReferrers, type ReferrerDescriptor, type ReferrersMode } from '../oci/referrers.js';
import type { FetchedManifest, Repository } from '../oci/repository.js';
import { addStats, emptyStats, manifestParts, type ContentCopier, type CopyStats } from './copy-content.js';
import { runPool } from './pool.js';

export interface CopiedReferrer {
  digest: string;
  /** The manifest it refers to (the chart, or another referrer). */
  subject: string;
  artifactType?: string;
  /** `copied`: written to the destination (manifest or referrers index) now; `skipped`: it was there. */
  status: 'copied' | 'skipped';
}

export interface VersionCopy {
  digest: string;
  mediaType: string;
  /** `copied` when the chart's manifest or tag was written now, `skipped` when the destination had both. */
  status: 'copied' | 'skipped';
  referrers: CopiedReferrer[];
  referrersCopied: number;
  stats: CopyStats;
  warnings: string[];
}

export interface CopyContext {
  copier: ContentCopier;
  src: Repository;
  dst: Repository;
  /** The source's tags, when listed: without the referrers API, a subject without a fallback tag has no referrers. */
  sourceTags?: ReadonlySet<string>;
  sourceMode: ReferrersMode;
  /** The destination's tags before the copy, when listed: a tag not among them needs no HEAD. */
  destinationTags?: ReadonlySet<string>;
  force: boolean;
  settleMs?: number;
}

/** A referrer read from the source, with its own referrers. */
interface ReferrerNode {
  subject: string;
  manifest: FetchedManifest;
  artifactType: string;
  children: ReferrerNode[];
}

const MAX_DEPTH = 8;
/** Referrer manifests of one subject read at once. */
const REFERRER_FETCHES = 8;

/** What `transfer` leaves for `publish`. */
export interface Transferred {
  manifest: FetchedManifest;
  tagPresent: boolean;
  /** The chart manifest was written (by digest) now. */
  chartPushed: boolean;
  tree: ReferrerNode[];
  referrerPushed: Set<string>;
  stats: CopyStats;
  warnings: string[];
}

/**
 * Reads the chart manifest (by tag or digest) and its referrer tree from the
 * source and puts every manifest and blob into the destination, by digest.
 */
export async function transferVersion(ctx: CopyContext, reference: string, tag: string | undefined): Promise<Transferred> {
  const stats = emptyStats();
  const warnings: string[] = [];
  const manifest = await ctx.src.fetchManifest(reference);
  const [atTag, tree] = await Promise.all([
    tag && (!ctx.destinationTags || ctx.destinationTags.has(tag)) ? ctx.dst.headManifest(tag) : undefined,
    readReferrers(ctx, manifest.digest, warnings, new Set([manifest.digest]), 0),
  ]);
  if (atTag?.digest && atTag.digest !== manifest.digest && !ctx.force) {
    throw new DestinationExistsError(`${ctx.dst.refText(tag!)} exists and is another manifest (${atTag.digest}, not ${manifest.digest})`, {
      hint: 'chart versions are meant to be immutable: copy to another repository, or replace it with --force',
    });
  }
  const tagPresent = atTag?.digest === manifest.digest;
  // The chart goes in by digest (unless its tag is there already), its referrers beside it; the tag
  // follows in publish, after the referrers. A missing tag hints at a fresh copy: HEADs and uploads together.
  let chartPushed = false;
  const referrerPushed = new Set<string>();
  await Promise.all([
    (async () => {
      if (tagPresent) return;
      const own = emptyStats();
      await ctx.copier.copyManifestByDigest(manifest.digest, own, ctx.src.refText(reference), manifest, true);
      chartPushed = own.manifestsPushed > 0;
      addStats(stats, own);
    })(),
    ...flatten(tree).map(async (node) => {
      const own = emptyStats();
      if (await ctx.copier.copyReferrerContent(node.manifest, own, !tagPresent)) referrerPushed.add(node.manifest.digest);
      addStats(stats, own);
    }),
  ]);
  return { manifest, tagPresent, chartPushed, tree, referrerPushed, stats, warnings };
}

/** Makes every referrer findable at the destination (parents first), then writes the tag. */
export async function publishVersion(ctx: CopyContext, t: Transferred, tag: string | undefined): Promise<VersionCopy> {
  const referrers: CopiedReferrer[] = [];
  const attachAll = async (nodes: ReferrerNode[]): Promise<void> => {
    for (const node of nodes) {
      const attached = await attachReferrer(
        ctx.dst,
        node.subject,
        node.manifest.bytes,
        ctx.settleMs === undefined ? {} : { settleMs: ctx.settleMs },
      );
      const copied = attached.created || t.referrerPushed.has(node.manifest.digest);
      referrers.push({
        digest: node.manifest.digest,
        subject: node.subject,
        ...(node.artifactType ? { artifactType: node.artifactType } : {}),
        status: copied ? 'copied' : 'skipped',
      });
      await attachAll(node.children);
    }
  };
  await attachAll(t.tree);
  let wroteTag = false;
  if (tag && !t.tagPresent) {
    await ctx.dst.pushManifest(tag, t.manifest.bytes, t.manifest.mediaType);
    t.stats.tagsPushed++;
    wroteTag = true;
  }
  const referrersCopied = referrers.filter((r) => r.status === 'copied').length;
  const chartPushed = wroteTag || t.chartPushed;
  return {
    digest: t.manifest.digest,
    mediaType: t.manifest.mediaType,
    status: chartPushed ? 'copied' : 'skipped',
    referrers,
    referrersCopied,
    stats: t.stats,
    warnings: t.warnings,
  };
}

/** The fallback index of `subject` as a referrer list (its tag is known to exist). */
async function readFallbackIndex(repo: Repository, subject: string): Promise<ReferrerDescriptor[]> {
  const { bytes } = await repo.fetchManifest(fallbackTag(subject), [OCI_INDEX]);
  let body: { manifests?: unknown };
  try {
    body = JSON.parse(bytes.toString('utf8')) as { manifests?: unknown };
  } catch (cause) {
    throw new RegistryError(`the referrers index ${repo.refText(fallbackTag(subject))} is not valid JSON`, undefined, { cause });
  }
  const out: ReferrerDescriptor[] = [];
  for (const d of Array.isArray(body.manifests) ? (body.manifests as Partial<ReferrerDescriptor>[]) : []) {
    if (!d || typeof d.digest !== 'string' || !isDigest(d.digest) || d.digest === subject) continue;
    if (typeof d.mediaType !== 'string' || typeof d.size !== 'number' || out.some((r) => r.digest === d.digest)) continue;
    out.push(d as ReferrerDescriptor);
  }
  return out;
}

function flatten(nodes: ReferrerNode[]): ReferrerNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children)]);
}

/**
 * Every referrer of `subject` in the source, recursively, with its manifest.
 * Without the referrers API and with the tag list at hand, a subject whose
 * fallback tag is not listed has none: no request for it.
 */
async function readReferrers(
  ctx: CopyContext,
  subject: string,
  warnings: string[],
  seen: Set<string>,
  depth: number,
): Promise<ReferrerNode[]> {
  if (ctx.sourceMode === 'fallback' && ctx.sourceTags && !ctx.sourceTags.has(fallbackTag(subject))) return [];
  if (depth >= MAX_DEPTH) {
    warnings.push(`referrers nested deeper than ${MAX_DEPTH} levels under ${subject} were not copied`);
    return [];
  }
  // Known to exist (tag list): read the index at once instead of HEAD + GET.
  const referrers =
    ctx.sourceMode === 'fallback' && ctx.sourceTags
      ? await readFallbackIndex(ctx.src, subject)
      : (await listReferrers(ctx.src, subject)).referrers;
  // Bounded: a subject may list thousands of referrers (the index allows 10 000).
  const nodes = await runPool(referrers, REFERRER_FETCHES, async (r): Promise<ReferrerNode | undefined> => {
    if (!isDigest(r.digest) || seen.has(r.digest)) return undefined;
    seen.add(r.digest);
    let manifest: FetchedManifest;
    try {
      manifest = await ctx.src.fetchManifest(r.digest);
    } catch (err) {
      // A fallback index may list a referrer that was deleted since: nothing to copy.
      if (err instanceof VersionNotFoundError) {
        warnings.push(`referrer ${r.digest} of ${subject} is listed but cannot be read from ${ctx.src}: ${(err as Error).message}`);
        return undefined;
      }
      throw err;
    }
    const parts = manifestParts(manifest, `referrer ${r.digest}`);
    return {
      subject,
      manifest,
      // image-spec: a descriptor's artifactType is the manifest's, else its config's media type.
      artifactType: r.artifactType ?? parts.artifactType ?? parts.configMediaType ?? '',
      children: await readReferrers(ctx, r.digest, warnings, seen, depth + 1),
    };
  });
  return nodes.filter((n): n is ReferrerNode => n !== undefined);
}
