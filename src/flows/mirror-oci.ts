/**
 * `chartprov mirror oci://SRC/path/name oci://DST/path`: every version of an
 * OCI chart, each judged first (its provenance layer and every provenance
 * referrer checked against the chart layer's digest and the trust level),
 * then moved with `chartprov copy`'s machinery — manifests and blobs byte for
 * byte, referrers re-indexed the way the destination keeps them — so digests
 * and signatures arrive as they were. The .prov stays in the form it has at
 * the source (layer or referrer): --attach does not apply.
 */
import { DestinationExistsError, VersionNotFoundError } from '../errors.js';
import type { RegistryClient } from '../oci/client.js';
import { chartRepository, formatOciReference, type OciReference } from '../oci/reference.js';
import { PROVENANCE_ARTIFACT_TYPE } from '../oci/provenance-artifact.js';
import { fallbackTag, hasReferrersApi, listReferrers } from '../oci/referrers.js';
import type { Repository } from '../oci/repository.js';
import { sortTagsBySemver, versionFromTag } from '../oci/version.js';
import { DEFAULT_MAX_PROV_BYTES } from '../provenance/parse.js';
import type { SignatureCandidate } from './chart-signatures.js';
import { ContentCopier, emptyStats, Limiter, manifestParts } from './copy-content.js';
import { publishVersion, transferVersion, type CopyContext } from './copy-version.js';
import { judgedFields, type MirrorVersionResult } from './mirror-version.js';
import { judgeVersion, type MirrorTrust } from './mirror-trust.js';
import { runBatch } from './pool.js';
import { existingTags } from './copy-charts.js';
import { readProvenanceReferrer } from './referrer-provenance.js';
import { parseChartConfig, resolveChart, type ResolvedChart } from './resolve-chart.js';

export interface OciMirrorContext {
  srcClient: RegistryClient;
  dstClient: RegistryClient;
  srcRef: OciReference;
  /** `oci://DST/path` parsed. */
  dstBase: OciReference;
  trust: MirrorTrust;
  dryRun: boolean;
  jobs: number;
  settleMs?: number;
  now?: Date;
  onStart(total: number): void;
  onResult(result: MirrorVersionResult, done: number, total: number): void;
}

export async function mirrorOciVersions(ctx: OciMirrorContext): Promise<{ results: MirrorVersionResult[]; destination: string }> {
  const { srcRef } = ctx;
  const src = ctx.srcClient.repository(srcRef.registry, srcRef.repository);
  const name = srcRef.repository.split('/').at(-1)!;
  const dstRepository = chartRepository(ctx.dstBase, name);
  const dst = ctx.dstClient.repository(ctx.dstBase.registry, dstRepository);
  const destination = formatOciReference({ registry: dst.registry, repository: dst.name });
  const allTags = await src.listTags();
  // Fallback-tag `sha256-…` indexes travel as referrers, not as versions.
  const tags = sortTagsBySemver(allTags.filter((t) => !/^sha(?:256|512)-[a-f0-9]{64}$/.test(t)));
  if (tags.length === 0) throw new VersionNotFoundError(`${src} has no chart versions to mirror`);
  const [srcApi, destinationTags] = await Promise.all([hasReferrersApi(src), existingTags(dst)]);
  ctx.onStart(tags.length);
  const copy: CopyContext = {
    copier: new ContentCopier(src, dst, { mount: srcRef.registry === ctx.dstBase.registry }),
    src,
    dst,
    sourceMode: srcApi ? 'api' : 'fallback',
    force: false,
    sourceTags: new Set(allTags),
    destinationTags,
    ...(ctx.settleMs === undefined ? {} : { settleMs: ctx.settleMs }),
  };
  // As copy does: judging and transfers bounded by --jobs, publishing (mostly waiting
  // out the fallback index's settle pauses) by a wider bound of its own.
  const transfers = new Limiter(ctx.jobs);
  const publishes = new Limiter(Math.max(32, ctx.jobs * 8));
  const results = await runBatch<string, MirrorVersionResult>(
    tags,
    tags.length,
    async (tag): Promise<MirrorVersionResult> => {
      const step = await transfers.run(() => judgeAndTransfer(ctx, copy, src, dst, tag));
      if (!step.moved) return step.result;
      const done = await publishes.run(() => publishVersion(copy, step.moved!, tag));
      const wrote = done.status === 'copied' || done.referrersCopied > 0;
      const status: MirrorVersionResult['status'] = !wrote ? 'skipped' : step.result.signer ? 'copied' : 'unsigned';
      return { ...step.result, status, digest: done.digest, ...(done.warnings.length ? { warnings: done.warnings } : {}) };
    },
    (tag, error): MirrorVersionResult => ({
      name,
      version: versionFromTag(tag),
      source: src.refText(tag),
      status: 'failed',
      code: error.code,
      reason: error.message,
    }),
    (result, done, total) => ctx.onResult(result, done, total),
  );
  return { results, destination };
}

async function judgeAndTransfer(
  ctx: OciMirrorContext,
  copy: CopyContext,
  src: Repository,
  dst: Repository,
  tag: string,
): Promise<{ result: MirrorVersionResult; moved?: Awaited<ReturnType<typeof transferVersion>> }> {
  const chart = await resolveChart(ctx.srcClient, formatOciReference({ registry: src.registry, repository: src.name, tag }));
  const read = await readVersion(copy, chart);
  const { name, version } = read.meta;
  const judged = await judgeVersion(
    ctx.trust,
    read.candidates,
    { fileName: `${name}-${version}.tgz`, sha256: chart.chart.digest.replace(/^sha256:/, ''), name, version },
    `${dst.registry}/${dst.name}`,
    ctx.now,
  );
  const result: MirrorVersionResult = {
    name,
    version,
    source: chart.reference,
    status: 'failed',
    chartDigest: chart.chart.digest,
    reference: formatOciReference({ registry: dst.registry, repository: dst.name, tag }),
    provenance: chart.prov ? 'layer' : read.candidates.length > 0 ? 'referrer' : 'none',
    ...judgedFields(judged),
  };
  if (judged.status === 'invalid' || judged.status === 'refused') return { result: { ...result, status: judged.status } };
  const fresh = judged.status === 'signed' ? 'copied' : 'unsigned';
  const there = copy.destinationTags?.has(tag) ? await dst.headManifest(tag) : undefined;
  if (there?.digest && there.digest !== chart.digest)
    throw new DestinationExistsError(`${dst.refText(tag)} exists and is another manifest (${there.digest}, not ${chart.digest})`, {
      hint: 'chart versions are meant to be immutable: mirror into another path, or delete that version first',
    });
  if (ctx.dryRun) {
    // A version already there is still written to when a referrer of it is missing there.
    const incomplete = there && read.referrers.length > 0 && (await missingReferrers(dst, chart.digest, read.referrers)) > 0;
    return { result: { ...result, status: there && !incomplete ? 'skipped' : fresh, digest: chart.digest } };
  }
  if (read.referrers.length === 0 && read.simple) {
    // Nothing refers to the chart: its manifest and blobs are all there is, and the config and
    // .prov are in memory already (read to judge it). The same bytes, so the same digests.
    if (there) return { result: { ...result, status: 'skipped', digest: chart.digest } };
    await Promise.all([
      dst.pushBlob({ bytes: read.config }, { digest: chart.config.digest, assumeAbsent: true }),
      read.prov ? dst.pushBlob({ bytes: read.prov }, { digest: chart.prov!.digest, assumeAbsent: true }) : undefined,
      chart.chart.size <= SMALL_CHART_BYTES
        ? // The tag is new, so the archive is almost surely too: GET it whole and send it in
          // one request instead of HEAD, open and PUT. Re-sending one left by an interrupted
          // run is harmless; bigger archives are streamed after a HEAD, as copy does.
          src.fetchBlobBytes(chart.chart, SMALL_CHART_BYTES).then((bytes) => dst.pushBlob({ bytes }, { digest: chart.chart.digest, assumeAbsent: true }))
        : copy.copier.copyBlob(chart.chart, emptyStats()),
    ]);
    await dst.pushManifest(tag, chart.manifestBytes, chart.mediaType);
    return { result: { ...result, status: fresh, digest: chart.digest } };
  }
  return { result: { ...result, status: fresh }, moved: await transferVersion(copy, tag, tag) };
}

/** Chart archives up to this size are held in memory between source and destination (--jobs of them at most). */
const SMALL_CHART_BYTES = 1024 * 1024;

/** How many of `wanted` the destination does not list as referrers of `subject`. */
async function missingReferrers(dst: Repository, subject: string, wanted: string[]): Promise<number> {
  const have = new Set((await listReferrers(dst, subject)).referrers.map((r) => r.digest));
  return wanted.filter((d) => !have.has(d)).length;
}

interface ReadVersion {
  meta: { name: string; version: string };
  config: Buffer;
  /** The provenance layer's bytes. */
  prov?: Buffer;
  /** Every .prov the chart has: its layer, its provenance referrers. */
  candidates: SignatureCandidate[];
  /** Digests of its referrers of any kind (provenance, cosign, SBOM…). */
  referrers: string[];
  /** Config, chart layer and at most a provenance layer: nothing else to copy. */
  simple: boolean;
}

/**
 * What judging a version needs, read once: its config (name, version), its
 * provenance layer and its referrers. Without the referrers API, a chart
 * whose fallback tag is not in the tag list has none: no request for it.
 */
async function readVersion(copy: CopyContext, chart: ResolvedChart): Promise<ReadVersion> {
  const src = chart.repo;
  const hasIndex = copy.sourceMode === 'api' || copy.sourceTags?.has(fallbackTag(chart.digest));
  const [config, prov, listed] = await Promise.all([
    src.fetchBlobBytes(chart.config, 1 << 20),
    chart.prov ? src.fetchBlobBytes(chart.prov, DEFAULT_MAX_PROV_BYTES) : undefined,
    hasIndex ? listReferrers(src, chart.digest) : undefined,
  ]);
  const meta = parseChartConfig(config, chart.reference);
  const candidates: SignatureCandidate[] = prov ? [{ source: 'layer', location: chart.prov!.digest, text: prov.toString('utf8') }] : [];
  const referrers = listed?.referrers ?? [];
  for (const r of referrers.filter((x) => x.artifactType === PROVENANCE_ARTIFACT_TYPE)) {
    // One too large to be a .prov would still be copied as a referrer: the version fails, said why.
    const text = await readProvenanceReferrer(src, r.digest, { tooLarge: 'error' });
    if (text !== undefined) candidates.push({ source: listed!.mode === 'api' ? 'referrer' : 'fallback-tag', location: r.digest, text });
  }
  const parts = manifestParts({ bytes: chart.manifestBytes, mediaType: chart.mediaType, digest: chart.digest }, chart.reference);
  return {
    meta: { name: meta.name, version: meta.version },
    config,
    ...(prov ? { prov } : {}),
    candidates,
    referrers: referrers.map((r) => r.digest),
    simple: parts.children.length === 0 && parts.blobs.length === (chart.prov ? 3 : 2),
  };
}
