/**
 * One row of `chartprov audit`: one tag of one repository, read as little as
 * the answer needs. The manifest says whether it is a chart, where its
 * provenance layer is and the chart layer's digest, which IS the archive's
 * sha256 the prov must name: the chart itself is never downloaded. The
 * config gives name and version; the referrers are listed once; their provs
 * are fetched a few at a time (REFERRER_JOBS), then all are checked and judged.
 */
import { NotAChartArtifactError, RegistryError } from '../errors.js';
import { isDigest } from '../oci/digest.js';
import { parseHelmManifest, type HelmManifest } from '../oci/helm-artifact.js';
import { OCI_INDEX } from '../oci/helm-media.js';
import { PROVENANCE_ARTIFACT_TYPE } from '../oci/provenance-artifact.js';
import { fallbackTag, hasReferrersApi } from '../oci/referrers.js';
import type { Repository } from '../oci/repository.js';
import { versionFromTag } from '../oci/version.js';
import type { TrustRequirement, TrustVerdict } from '../policy/types.js';
import { claimedSigner, parseProvenance } from '../provenance/index.js';
import { checkSignatures, type SignatureCandidate, type SignatureCheck, type SignatureSource } from './chart-signatures.js';
import { runPool, toCodedError, type CodedError } from './pool.js';
import { listedProvenances, readProvenanceLayer, readProvenanceReferrer } from './referrer-provenance.js';
import { parseChartConfig } from './resolve-chart.js';

/**
 * - `valid`: at least one signature verifies with the keys (the policy may still refuse it: see `policy`).
 * - `invalid`: signed, but no signature verifies: tampered chart, altered prov, another chart's prov…
 * - `unknown-key`: signed, and every signature is by a key the keyrings lack.
 * - `unsigned`: no provenance layer, no provenance referrer.
 * - `not-a-chart`: the tag holds an image or another artifact (not a violation).
 * - `error`: the registry could not be read for this version (`error` says why).
 */
export type AuditStatus = 'valid' | 'invalid' | 'unknown-key' | 'unsigned' | 'not-a-chart' | 'error';

export interface AuditSigner {
  /** The (sub)key that made the signature, 16 hex: verified when valid, else as the signature claims. */
  keyId?: string;
  /** Primary key fingerprint (only when the key is known). */
  fingerprint?: string;
  /** Primary user id (only when the key is known). */
  userId?: string;
  signedAt?: string;
}

export interface AuditSignature {
  /** Where it lives: the chart's provenance layer, a referrer (API) or the fallback tag's index. */
  source: SignatureSource;
  /** The layer's or referrer manifest's digest. */
  location: string;
  valid: boolean;
  signer?: AuditSigner;
  /** Why it does not verify: SIGNER_UNKNOWN, CHART_TAMPERED, SIGNATURE_INVALID, PROV_MISMATCH… */
  error?: { code: string; message: string };
  /** Whether the policy counted it, and why (not). */
  counted?: boolean;
  policyReason?: string;
}

export interface AuditPolicyVerdict {
  allowed: boolean;
  /** The policy rule that applied. */
  rule: string;
  reason: string;
}

export interface AuditedVersion {
  /** `path/name` in the registry. */
  repository: string;
  /** `oci://host/path/name:tag`. */
  reference: string;
  /** The tag as stored; empty for a row that stands for a whole repository whose tags could not be listed. */
  tag: string;
  /** The tag read as a version (`_` → `+`). */
  version: string;
  status: AuditStatus;
  /** The manifest's digest, once read. */
  digest?: string;
  /** Name and version from the chart's config. */
  chart?: { name: string; version: string };
  signatures: AuditSignature[];
  /** Absent for `not-a-chart` and `error` rows: nothing to judge. */
  policy?: AuditPolicyVerdict;
  /** For `error` (what failed) and `not-a-chart` (what it is instead). */
  error?: CodedError;
}

/** Referrers of one version read at once. */
const REFERRER_JOBS = 8;

export interface VersionContext {
  repo: Repository;
  /** Every tag of the repository: a version without `sha256-<hex>` among them has no fallback referrers to read. */
  tags: ReadonlySet<string>;
  requirement: TrustRequirement;
  judge: (req: TrustRequirement, checks: SignatureCheck[], now?: Date) => TrustVerdict;
  now?: Date;
}

export async function auditVersion(ctx: VersionContext, tag: string): Promise<AuditedVersion> {
  const { repo } = ctx;
  const row: AuditedVersion = {
    repository: repo.name,
    reference: `oci://${repo.registry}/${repo.name}:${tag}`,
    tag,
    version: versionFromTag(tag),
    status: 'error',
    signatures: [],
  };
  try {
    const fetched = await repo.fetchManifest(tag);
    row.digest = fetched.digest;
    let manifest: HelmManifest;
    try {
      manifest = parseHelmManifest(fetched.bytes);
    } catch (err) {
      if (!(err instanceof NotAChartArtifactError)) throw err;
      return { ...row, status: 'not-a-chart', error: err.toJSON() };
    }
    const [meta, candidates] = await Promise.all([nameAndVersion(repo, manifest), signaturesOf(ctx, manifest, fetched.digest)]);
    row.chart = meta;
    if (!manifest.chart.digest.startsWith('sha256:'))
      throw new RegistryError(
        `${row.reference}: its chart layer is named by ${manifest.chart.digest.split(':')[0]}, and a .prov lists sha256 digests`,
      );
    const sha256 = manifest.chart.digest.slice('sha256:'.length);
    const chart = { fileName: `${meta.name}-${meta.version}.tgz`, sha256, ...meta };
    const checks = await checkSignatures(candidates, chart, ctx.requirement.keys, ctx.now);
    const verdict = ctx.judge(ctx.requirement, checks, ctx.now);
    row.signatures = await Promise.all(checks.map((c, i) => describeCheck(c, candidates[i]!.text, verdict)));
    row.status = statusOf(checks);
    row.policy = { allowed: verdict.allowed, rule: verdict.rule, reason: verdict.reason };
    return row;
  } catch (err) {
    return { ...row, status: 'error', error: toCodedError(err) };
  }
}

function statusOf(checks: SignatureCheck[]): AuditStatus {
  if (checks.length === 0) return 'unsigned';
  if (checks.some((c) => c.ok)) return 'valid';
  return checks.every((c) => !c.ok && c.error.code === 'SIGNER_UNKNOWN') ? 'unknown-key' : 'invalid';
}

/** The provenance layer and every provenance referrer, fetched in parallel. */
async function signaturesOf(ctx: VersionContext, manifest: HelmManifest, digest: string): Promise<SignatureCandidate[]> {
  const layer = manifest.prov;
  const [layerText, referrers] = await Promise.all([
    layer ? readProvenanceLayer(ctx.repo, layer) : undefined,
    referrerSignatures(ctx, digest),
  ]);
  return [
    ...(layer && layerText !== undefined ? [{ source: 'layer' as const, location: layer.digest, text: layerText }] : []),
    ...referrers,
  ];
}

/**
 * Provenance referrers with their text. Without the referrers API they live
 * in the index at tag `sha256-<hex>`, and the tag list we already have says
 * whether it exists: absent, there are none (no request); present, it is read
 * at once (listReferrers would look it up with a HEAD first).
 */
async function referrerSignatures(ctx: VersionContext, digest: string): Promise<SignatureCandidate[]> {
  const { repo } = ctx;
  let listed: Array<{ source: SignatureSource; digest: string }>;
  if (await hasReferrersApi(repo)) {
    listed = (await listedProvenances(repo, digest)).map((l) => ({
      source: l.mode === 'api' ? 'referrer' : 'fallback-tag',
      digest: l.referrer,
    }));
  } else {
    const tag = fallbackTag(digest);
    if (!ctx.tags.has(tag)) return [];
    listed = fallbackEntries((await repo.fetchManifest(tag, [OCI_INDEX])).bytes, digest).map((d) => ({
      source: 'fallback-tag',
      digest: d,
    }));
  }
  // Bounded: a version can have any number of referrers, and the versions themselves run in parallel.
  const read = await runPool(listed, REFERRER_JOBS, async (l) => ({
    ...l,
    text: await readProvenanceReferrer(repo, l.digest, { tooLarge: 'error' }),
  }));
  return read.filter((r) => r.text !== undefined).map((r) => ({ source: r.source, location: r.digest, text: r.text! }));
}

/** The provenance entries of a fallback index (as listReferrers filters them: by artifactType). */
function fallbackEntries(index: Buffer, subject: string): string[] {
  let body: { manifests?: unknown };
  try {
    body = JSON.parse(index.toString('utf8')) as typeof body;
  } catch {
    throw new RegistryError(`the fallback referrers index of ${subject} is not valid JSON`);
  }
  const entries = Array.isArray(body.manifests) ? (body.manifests as Array<{ digest?: unknown; artifactType?: unknown }>) : [];
  const digests = entries
    .filter(
      (e) => e && e.artifactType === PROVENANCE_ARTIFACT_TYPE && typeof e.digest === 'string' && isDigest(e.digest) && e.digest !== subject,
    )
    .map((e) => e.digest as string);
  return [...new Set(digests)];
}

/**
 * The chart's name and version: from the manifest annotations `helm push`
 * writes (title, version; a chart's own annotations cannot replace them),
 * else from the config blob. Either is the pusher's word about the archive,
 * not the signature's: what a prov signs is the archive's sha256, and the
 * archive holds Chart.yaml. The annotations save a request per version.
 */
async function nameAndVersion(repo: Repository, manifest: HelmManifest): Promise<{ name: string; version: string }> {
  const name = manifest.annotations['org.opencontainers.image.title'];
  const version = manifest.annotations['org.opencontainers.image.version'];
  if (name && version) return { name, version };
  return parseChartConfig(await repo.fetchBlobBytes(manifest.config, 1 << 20), `${repo} (config ${manifest.config.digest})`);
}

/** A check as the report shows it: the signer (claimed when unverified) and the policy's word on it. */
async function describeCheck(check: SignatureCheck, text: string, verdict: TrustVerdict): Promise<AuditSignature> {
  const judged = verdict.signatures.find((s) => s.source === check.source && s.location === check.location);
  const policy = judged ? { counted: judged.counted, policyReason: judged.reason } : {};
  if (check.ok) {
    const { keyId, fingerprint, userId, signedAt } = check.signer;
    return { source: check.source, location: check.location, valid: true, signer: { keyId, fingerprint, userId, signedAt }, ...policy };
  }
  let signer: AuditSigner | undefined;
  try {
    signer = await claimedSigner(parseProvenance(text));
  } catch {
    // A prov too malformed to name its key: the error says so.
  }
  return {
    source: check.source,
    location: check.location,
    valid: false,
    ...(signer ? { signer } : {}),
    error: { code: check.error.code, message: check.error.message },
    ...policy,
  };
}
