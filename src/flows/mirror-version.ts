/**
 * One chart version of `chartprov mirror` from a classic source (chart
 * repository or folder): read its .prov, judge it, compare with what the
 * destination holds, and push — or say why not. Nothing is written for a
 * version that is invalid or refused, and nothing twice: a version whose
 * chart layer and .prov are at the destination already is `skipped`, and a
 * chart that is there without its .prov gets it attached as a referrer (its
 * digest, which deployments may pin, is never changed).
 */
import { rm, stat } from 'node:fs/promises';
import { DestinationExistsError, RepoIndexInvalidError } from '../errors.js';
import { digestOf } from '../oci/digest.js';
import { formatRfc3339 } from '../oci/helm-artifact.js';
import { formatOciReference } from '../oci/reference.js';
import { tagFromVersion } from '../oci/version.js';
import type { SignatureCandidate } from './chart-signatures.js';
import type { MirrorDestination } from './mirror-destination.js';
import type { ClassicSource, ClassicVersion, FetchedArchive } from './mirror-source.js';
import { judgeVersion, type Judgement, type MirrorSigner, type MirrorTrust } from './mirror-trust.js';
import type { CodedError } from './pool.js';

export type MirrorStatus = 'copied' | 'skipped' | 'unsigned' | 'invalid' | 'refused' | 'failed';

export interface MirrorVersionResult {
  name: string;
  version: string;
  /**
   * `copied`: pushed now with its .prov (or its .prov attached now);
   * `skipped`: the destination had the same chart layer and .prov;
   * `unsigned`: pushed now without a .prov (none at the source);
   * `invalid`: a .prov does not verify or is not about this chart — not pushed;
   * `refused`: the trust policy does not allow it — not pushed;
   * `failed`: could not be read or written. With `dryRun`, what would happen.
   */
  status: MirrorStatus;
  /** Why, for invalid, refused, failed (and the policy's verdict when one applied). */
  reason?: string;
  /** The error code for invalid, refused, failed. */
  code?: string;
  /** Destination manifest digest (after the push, or as found). */
  digest?: string;
  /** `sha256:<hex>` of the chart archive (= its layer's digest). */
  chartDigest?: string;
  signer?: MirrorSigner;
  /** Where the .prov is at the destination. */
  provenance?: 'layer' | 'referrer' | 'none';
  /** `oci://DST/path/name:tag`. */
  reference?: string;
  /** The archive at the source. */
  source: string;
  warnings?: string[];
}

export interface ClassicContext {
  source: ClassicSource;
  destination: MirrorDestination;
  /** `path` of `oci://host/path`. */
  basePath: string;
  trust: MirrorTrust;
  attach: boolean;
  dryRun: boolean;
  staging: string;
  created?: Date;
  env?: NodeJS.ProcessEnv;
  now?: Date;
}

let slots = 0;

/** A staging file name no other download of this process uses. */
export function nextSlot(): number {
  return ++slots;
}

export async function mirrorClassicVersion(ctx: ClassicContext, v: ClassicVersion): Promise<MirrorVersionResult> {
  const base = { name: v.name, version: v.version, source: v.location };
  const repository = ctx.basePath ? `${ctx.basePath}/${v.name}` : v.name;
  const tag = tagFromVersion(v.version);
  const repo = ctx.destination.repository(repository);
  const reference = formatOciReference({ registry: ctx.destination.registry, repository, tag });
  const [prov, existing] = await Promise.all([ctx.source.prov(v), ctx.destination.existing(repo, tag)]);
  let archive: FetchedArchive | undefined;
  try {
    // A re-run needs no download when the index's digest already names the layer there.
    let sha256 = v.indexDigest;
    if (!existing || !sha256 || existing.chart.digest !== `sha256:${sha256}`) {
      archive = await ctx.source.archive(v, ctx.staging, nextSlot());
      sha256 = archive.info.sha256;
      const md = archive.info.metadata;
      if (md.name !== v.name || md.version !== v.version)
        throw new RepoIndexInvalidError(
          `the index lists ${v.name} ${v.version} at ${v.location}, but the archive holds ${md.name} ${md.version}`,
          {
            hint: "fix the repository's index (helm repo index) before mirroring it",
          },
        );
    }
    const candidates: SignatureCandidate[] = prov ? [{ source: 'url', location: prov.location, text: prov.text }] : [];
    const chart = { fileName: `${v.name}-${v.version}.tgz`, sha256: sha256!, name: v.name, version: v.version };
    const judged = await judgeVersion(ctx.trust, candidates, chart, `${ctx.destination.registry}/${repository}`, ctx.now);
    const out = { ...base, chartDigest: `sha256:${sha256}`, reference, ...judgedFields(judged) };
    if (judged.status === 'invalid' || judged.status === 'refused') return { ...out, status: judged.status };
    const signed = judged.status === 'signed';

    if (existing) {
      if (existing.chart.digest !== `sha256:${sha256}`) {
        throw new DestinationExistsError(
          `${reference} exists and holds another chart archive (${existing.chart.digest}, not sha256:${sha256})`,
          {
            hint: 'chart versions are meant to be immutable: mirror into another path, or delete that version first',
          },
        );
      }
      const there = { ...out, digest: existing.digest };
      if (!signed) return { ...there, status: 'skipped', provenance: existing.prov ? 'layer' : 'none' };
      const provDigest = digestOf(Buffer.from(prov!.text, 'utf8'));
      if (await ctx.destination.hasProv(repo, existing, provDigest))
        return { ...there, status: 'skipped', provenance: existing.prov?.digest === provDigest ? 'layer' : 'referrer' };
      // The chart is there without this .prov (an interrupted --attach run, or a migration that dropped it).
      const warnings = ctx.attach ? [] : [`${reference} was there without its .prov: attached as a referrer, the chart's digest unchanged`];
      if (!ctx.dryRun) await ctx.destination.attachProv(repo, existing, prov!.text, v, judged.signer);
      return { ...there, status: 'copied', provenance: 'referrer', ...(warnings.length ? { warnings } : {}) };
    }

    const provenance = !signed ? 'none' : ctx.attach ? 'referrer' : 'layer';
    const status = signed ? 'copied' : 'unsigned';
    if (ctx.dryRun) return { ...out, status, provenance };
    archive ??= await ctx.source.archive(v, ctx.staging, nextSlot());
    const created = await createdTime(archive, ctx);
    const pushed = await ctx.destination.pushChart(repo, tag, archive, signed && !ctx.attach ? prov!.text : undefined, created);
    await ctx.destination.pushed(repo, tag);
    if (signed && ctx.attach) await ctx.destination.attachProv(repo, pushed, prov!.text, v, judged.signer);
    return { ...out, status, provenance, digest: pushed.digest };
  } finally {
    if (archive?.temporary) await rm(archive.path, { force: true });
  }
}

/** The judgement's part of a result: the signer, or the reason and code. */
export function judgedFields(j: Judgement): Pick<MirrorVersionResult, 'signer' | 'reason' | 'code'> {
  if (j.status === 'signed') return { signer: j.signer, ...(j.reason ? { reason: j.reason } : {}) };
  if (j.status === 'unsigned') return j.reason ? { reason: j.reason } : {};
  return { reason: j.reason, code: j.code };
}

export function failedResult(v: { name: string; version: string; location: string }, error: CodedError): MirrorVersionResult {
  return { name: v.name, version: v.version, source: v.location, status: 'failed', code: error.code, reason: error.message };
}

/**
 * `org.opencontainers.image.created`: the caller's, else SOURCE_DATE_EPOCH,
 * else a local archive's modification time as helm push stamps it; a
 * download's is the time of the mirror.
 */
async function createdTime(archive: FetchedArchive, ctx: ClassicContext): Promise<string> {
  if (ctx.created) return formatRfc3339(ctx.created);
  const epoch = (ctx.env ?? process.env).SOURCE_DATE_EPOCH;
  if (epoch && /^\d+$/.test(epoch)) return formatRfc3339(new Date(Number(epoch) * 1000));
  const when = archive.temporary ? new Date() : (await stat(archive.path)).mtime;
  return formatRfc3339(when);
}
