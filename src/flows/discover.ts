/**
 * `chartprov discover oci://…`: a chart in a registry and everything that
 * vouches for it — the provenance layer in its own manifest, and every
 * artifact that refers to it (chartprov's attached provenance, cosign and
 * notation signatures, SBOMs, anything else), with their own referrers one
 * level down, as `oras discover` shows them. With keyrings, each provenance
 * is verified against this chart; without, it is only checked to be about
 * this chart, and the signer is what the signature claims.
 */
import type { PublicKey } from 'openpgp';
import { ProvenanceInvalidError, SignerUnknownError, UsageError, isChartprovError, type ChartprovError } from '../errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { PROVENANCE_ARTIFACT_TYPE, provenanceLayerOf } from '../oci/provenance-artifact.js';
import { parseOciReference } from '../oci/reference.js';
import { listReferrers, type ReferrerDescriptor, type ReferrersMode } from '../oci/referrers.js';
import { DEFAULT_MAX_PROV_BYTES, checkProvenanceMatches, claimedSigner, parseProvenance, verifyProvenance } from '../provenance/index.js';
import type { ParsedProvenance } from '../provenance/parse.js';
import { runPool } from './pool.js';
import { withRegistryClient, type RegistryOptions } from './registry-client.js';
import { readChartConfig, resolveChart, type ResolvedChart } from './resolve-chart.js';
import { loadVerificationKeys } from './verify-charts.js';

export interface DiscoverOptions extends RegistryOptions {
  /** `oci://host/path/name:tag`, `…@sha256:…`, or `oci://…/name` (with `version`, else the highest version). */
  reference: string;
  version?: string;
  /** Public keyrings: verify every provenance against the chart. Without them, statuses are 'unchecked'. */
  keyrings?: string[];
  /** Only the chart's referrers of this artifactType (their own referrers are all listed). */
  artifactType?: string;
  /** Levels of referrers: 1 = the chart's, 2 (default) = also theirs. */
  depth?: number;
  /** Verification time; default now. */
  now?: Date;
}

/**
 * What a referrer is, from its artifactType: ours (`provenance`), a
 * signature (cosign, notation, sigstore bundles), an SBOM (SPDX, CycloneDX,
 * Syft, cosign's SBOM attachments) or anything else.
 */
export type ReferrerKind = 'provenance' | 'signature' | 'sbom' | 'other';

/**
 * - `valid`: signed by a key of the keyrings, about this exact chart (archive digest, name, version).
 * - `invalid`: malformed, about other bytes or another chart, or a bad signature (`reason` says which).
 * - `unknown-key`: about this chart, but signed by a key the keyrings lack.
 * - `unchecked`: about this chart; no keyring was given, so the signature was not checked.
 */
export type ProvenanceStatus = 'valid' | 'invalid' | 'unknown-key' | 'unchecked';

export interface DiscoveredSigner {
  /** The (sub)key that made the signature, 16 hex: verified when `valid`, else as the signature claims it. */
  keyId: string;
  /** Primary key fingerprint (only when verified). */
  fingerprint?: string;
  /** Primary user id (only when verified). */
  userId?: string;
  signedAt?: string;
}

export interface ProvenanceCheck {
  status: ProvenanceStatus;
  signer?: DiscoveredSigner;
  /** The error code when not valid: `SIGNER_UNKNOWN`, `CHART_TAMPERED`, `PROV_MISMATCH`, `SIGNATURE_INVALID`, `PROV_INVALID`, `KEY_EXPIRED`, … */
  reason?: string;
  message?: string;
}

export interface DiscoveredReferrer {
  /** The referrer manifest's digest. */
  digest: string;
  /** From the index entry; read from the manifest (its artifactType, else config media type) when the entry has none. */
  artifactType?: string;
  mediaType: string;
  size: number;
  annotations: Record<string, string>;
  kind: ReferrerKind;
  /** Provenance referrers of the chart: the check against the chart. */
  provenance?: ProvenanceCheck;
  /** Its own referrers, when the depth reaches them (empty: looked, none). */
  referrers?: DiscoveredReferrer[];
}

export interface DiscoverResult {
  chart: {
    /** `oci://host/path/name:tag` or `…@sha256:…`, as resolved. */
    reference: string;
    digest: string;
    name: string;
    version: string;
    /** The chart manifest's media type and size. */
    mediaType: string;
    size: number;
  };
  /** The provenance layer inside the chart's manifest (what `helm push` stores beside the chart). */
  provenanceLayer?: { mediaType: string; digest: string; size: number; provenance: ProvenanceCheck };
  referrers: DiscoveredReferrer[];
  /** Where the registry keeps referrers: its referrers API, or the fallback tag `sha256-<hex>`. */
  mode: ReferrersMode;
}

const SIGNATURE_TYPES = new Set([
  'application/vnd.dev.cosign.artifact.sig.v1+json',
  'application/vnd.cncf.notary.signature',
  'application/vnd.dev.cosign.simplesigning.v1+json',
]);

/** Classifies an artifactType (see ReferrerKind). */
export function referrerKind(artifactType: string | undefined): ReferrerKind {
  if (!artifactType) return 'other';
  const type = artifactType.toLowerCase();
  if (type === PROVENANCE_ARTIFACT_TYPE) return 'provenance';
  if (SIGNATURE_TYPES.has(type) || type.startsWith('application/vnd.dev.sigstore.bundle')) return 'signature';
  if (/spdx|cyclonedx|syft|sbom/.test(type)) return 'sbom';
  return 'other';
}

// Failures that say the registry cannot be read at all: discovery stops. Anything
// else while reading one provenance only makes that provenance invalid.
const FATAL = new Set([
  'REGISTRY_UNREACHABLE',
  'REGISTRY_TLS',
  'REGISTRY_LOGIN_REQUIRED',
  'REGISTRY_CREDENTIALS_REJECTED',
  'REGISTRY_DENIED',
  'REGISTRY_RATE_LIMITED',
]);

const CONCURRENCY = 4;

interface Context {
  chart: ResolvedChart;
  meta: { name: string; version: string };
  keys: PublicKey[] | undefined;
  now: Date | undefined;
  depth: number;
}

export async function discover(opts: DiscoverOptions): Promise<DiscoverResult> {
  const depth = opts.depth ?? 2;
  if (!Number.isInteger(depth) || depth < 1) throw new UsageError(`depth must be a whole number ≥ 1, not ${depth}`, { hint: 'use 1 or 2' });
  const { registry } = parseOciReference(opts.reference, { requireScheme: true });
  // Keyrings first: a bad keyring fails before any network traffic.
  const keys = opts.keyrings?.length ? await loadVerificationKeys(opts.keyrings) : undefined;
  return withRegistryClient({ ...opts, registries: [registry] }, async (client) => {
    const chart = await resolveChart(client, opts.reference, opts.version);
    const meta = await readChartConfig(chart);
    const ctx: Context = { chart, meta, keys, now: opts.now, depth };
    const [provenanceLayer, listed] = await Promise.all([
      chart.prov ? layerOf(ctx, chart.prov) : undefined,
      listReferrers(chart.repo, chart.digest, opts.artifactType ? { artifactType: opts.artifactType } : {}),
    ]);
    const referrers = await runPool(listed.referrers, CONCURRENCY, (r) => describe(ctx, r, 1));
    return {
      chart: {
        reference: chart.reference,
        digest: chart.digest,
        name: meta.name,
        version: meta.version,
        mediaType: chart.mediaType,
        size: chart.manifestBytes.byteLength,
      },
      ...(provenanceLayer ? { provenanceLayer } : {}),
      referrers,
      mode: listed.mode,
    };
  });
}

async function layerOf(ctx: Context, layer: Descriptor): Promise<NonNullable<DiscoverResult['provenanceLayer']>> {
  const base = { mediaType: layer.mediaType, digest: layer.digest, size: layer.size };
  let text: string;
  try {
    text = await readProv(ctx, layer);
  } catch (err) {
    return { ...base, provenance: invalid(nonFatal(err)) };
  }
  return { ...base, provenance: await checkProvenance(ctx, text) };
}

async function describe(ctx: Context, r: ReferrerDescriptor, level: number): Promise<DiscoveredReferrer> {
  const repo = ctx.chart.repo;
  let artifactType = r.artifactType;
  let manifest: Buffer | undefined;
  let manifestError: ChartprovError | undefined;
  // The manifest is read only when needed: for a provenance, or to learn an artifactType the index left out.
  if (!artifactType || (level === 1 && referrerKind(artifactType) === 'provenance')) {
    try {
      manifest = (await repo.fetchManifest(r.digest)).bytes;
      artifactType ??= artifactTypeOf(manifest);
    } catch (err) {
      manifestError = nonFatal(err);
    }
  }
  const out: DiscoveredReferrer = {
    digest: r.digest,
    ...(artifactType ? { artifactType } : {}),
    mediaType: r.mediaType,
    size: r.size,
    annotations: r.annotations ?? {},
    kind: referrerKind(artifactType),
  };
  // Only the chart's own referrers are about the chart; a provenance deeper down is about its subject.
  if (out.kind === 'provenance' && level === 1) out.provenance = await referrerProvenance(ctx, manifest, manifestError);
  if (level < ctx.depth) {
    const nested = await listReferrers(repo, r.digest);
    out.referrers = await runPool(nested.referrers, CONCURRENCY, (n) => describe(ctx, n, level + 1));
  }
  return out;
}

async function referrerProvenance(ctx: Context, manifest: Buffer | undefined, error: ChartprovError | undefined): Promise<ProvenanceCheck> {
  if (!manifest) return invalid(error ?? new ProvenanceInvalidError('the provenance artifact could not be read'));
  const layer = provenanceLayerOf(manifest);
  if (!layer) return invalid(new ProvenanceInvalidError(`the artifact has no ${PROVENANCE_ARTIFACT_TYPE} layer`));
  try {
    return await checkProvenance(ctx, await readProv(ctx, layer));
  } catch (err) {
    return invalid(nonFatal(err));
  }
}

async function readProv(ctx: Context, layer: Descriptor): Promise<string> {
  if (layer.size > DEFAULT_MAX_PROV_BYTES)
    throw new ProvenanceInvalidError(`the provenance layer ${layer.digest} is ${layer.size} bytes, larger than any provenance file`);
  return (await ctx.chart.repo.fetchBlobBytes(layer, DEFAULT_MAX_PROV_BYTES)).toString('utf8');
}

/**
 * About this chart first (archive digest, name, version: no key needed), so a
 * prov for other bytes is `invalid` whoever signed it; then the signature.
 */
async function checkProvenance(ctx: Context, text: string): Promise<ProvenanceCheck> {
  const fileName = `${ctx.meta.name}-${ctx.meta.version}.tgz`;
  const sha256 = ctx.chart.chart.digest;
  let parsed: ParsedProvenance;
  let claimed: DiscoveredSigner;
  try {
    parsed = parseProvenance(text);
    claimed = await claimedSigner(parsed);
  } catch (err) {
    return invalid(nonFatal(err));
  }
  try {
    checkProvenanceMatches(parsed, { fileName, sha256, chartMetadata: ctx.meta });
  } catch (err) {
    return invalid(nonFatal(err), claimed);
  }
  if (!ctx.keys) return { status: 'unchecked', signer: claimed };
  try {
    const v = await verifyProvenance({
      provenance: parsed,
      fileName,
      sha256,
      keys: ctx.keys,
      chartMetadata: ctx.meta,
      ...(ctx.now ? { now: ctx.now } : {}),
    });
    const { keyId, fingerprint, userId, signedAt } = v.signer;
    return { status: 'valid', signer: { keyId, fingerprint, userId, signedAt } };
  } catch (err) {
    const e = nonFatal(err);
    if (e instanceof SignerUnknownError) return { status: 'unknown-key', signer: claimed, reason: e.code, message: e.message };
    return invalid(e, claimed);
  }
}

function invalid(err: ChartprovError, signer?: DiscoveredSigner): ProvenanceCheck {
  return { status: 'invalid', ...(signer ? { signer } : {}), reason: err.code, message: err.message };
}

/** A failure that concerns one artifact; rethrows what stops discovery (connection, auth) and bugs. */
function nonFatal(err: unknown): ChartprovError {
  if (isChartprovError(err) && !FATAL.has(err.code)) return err;
  throw err;
}

/** A manifest's artifactType, else its config's media type (how the referrers API fills it in). */
function artifactTypeOf(manifest: Buffer): string | undefined {
  try {
    const m = JSON.parse(manifest.toString('utf8')) as { artifactType?: unknown; config?: { mediaType?: unknown } };
    if (typeof m.artifactType === 'string') return m.artifactType;
    if (typeof m.config?.mediaType === 'string') return m.config.mediaType;
  } catch {
    // Not JSON: the type stays unknown.
  }
  return undefined;
}
