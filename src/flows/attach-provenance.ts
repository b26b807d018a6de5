/**
 * `chartprov attach oci://host/project/name:version CHART.tgz.prov`: pairs a
 * provenance file with a chart already in a registry, without touching the
 * chart. The prov must be about that exact chart (the chart layer's digest
 * is the archive's sha256, and name/version must match its config); its
 * signature is checked when a keyring is given. Then it is stored as an
 * artifact whose `subject` is the chart (referrers API, or the fallback tag).
 */
import { ChartTamperedError, ProvenanceMismatchError, ReferrerRejectedError, SignerUnknownError, UsageError } from '../errors.js';
import { OCI_EMPTY_BYTES, OCI_EMPTY_CONFIG } from '../oci/helm-media.js';
import {
  PROVENANCE_ARTIFACT_TYPE,
  provenanceArtifact,
  provenanceLayerOf,
  type ProvenanceArtifact,
  type ProvenanceArtifactForm,
} from '../oci/provenance-artifact.js';
import { attachReferrer, fallbackTag, hasReferrersApi, listReferrers, type AttachOptions, type ReferrersMode } from '../oci/referrers.js';
import { claimedSigner, checkProvenanceMatches, parseProvenance, verifyProvenance } from '../provenance/index.js';
import type { ParsedProvenance } from '../provenance/parse.js';
import { parseOciReference } from '../oci/reference.js';
import type { SignerInfo } from '../provenance/index.js';
import { withRegistryClient, type RegistryOptions } from './registry-client.js';
import { readChartConfig, resolveChart, type ResolvedChart } from './resolve-chart.js';
import { loadVerificationKeys, readProvenanceFile } from './verify-charts.js';

export interface AttachProvenanceOptions extends RegistryOptions {
  /** `oci://host/path/name:tag`, `…@sha256:…`, or `oci://…/name` with `version`. */
  reference: string;
  version?: string;
  /** The .prov file (or give `provenance`). */
  provPath?: string;
  /** The .prov text, when it is not in a file (sign in place). */
  provenance?: string;
  /** Public keyrings: when given, the signature must hold (a signer not in them is only a warning). */
  keyrings?: string[];
  /** The signer as the caller has just checked it (sign in place): no keyring needed. */
  checkedSigner?: SignerInfo;
  /** Fallback-index tuning (tests, copy). */
  attach?: AttachOptions;
  now?: Date;
}

export interface AttachedSigner {
  keyId: string;
  fingerprint?: string;
  userId?: string;
  signedAt?: string;
  /** True when the signature was checked against a key of the keyrings. */
  verified: boolean;
}

export interface AttachProvenanceResult {
  /** The chart, as resolved: `oci://…:tag` or `…@digest`. */
  reference: string;
  chart: { name: string; version: string; digest: string };
  /** The provenance artifact's manifest digest. */
  referrer: string;
  /** Where the registry keeps referrers. */
  mode: ReferrersMode;
  /** False when this very prov was attached already (nothing changed). */
  created: boolean;
  signer: AttachedSigner;
  warnings: string[];
}

export async function attachProvenance(opts: AttachProvenanceOptions): Promise<AttachProvenanceResult> {
  if (opts.provenance === undefined && !opts.provPath)
    throw new UsageError('no provenance to attach', {
      hint: 'give the .prov file: chartprov attach oci://HOST/PATH/NAME:VERSION CHART.tgz.prov',
    });
  const provenance = opts.provenance ?? (await readProvenanceFile(opts.provPath!, opts.reference, 'give the .prov made for this chart'));
  const parsed = parseProvenance(provenance);
  const keys = opts.keyrings?.length ? await loadVerificationKeys(opts.keyrings) : undefined;
  return withRegistryClient({ ...opts, registries: [registryOf(opts.reference)] }, async (client) => {
    const chart = await resolveChart(client, opts.reference, opts.version);
    const meta = await readChartConfig(chart);
    const fileName = `${meta.name}-${meta.version}.tgz`;
    checkBelongs(parsed, chart, meta, fileName);
    const warnings: string[] = [];
    const signer = opts.checkedSigner
      ? { ...pickSigner(opts.checkedSigner), verified: true }
      : await signerOf(parsed, provenance, chart, meta, fileName, keys, opts.now, warnings);
    const artifactOf = (form: ProvenanceArtifactForm) =>
      provenanceArtifact({
        subject: { mediaType: chart.mediaType, digest: chart.digest, size: chart.manifestBytes.byteLength },
        prov: Buffer.from(provenance, 'utf8'),
        fileName: `${fileName}.prov`,
        chart: meta,
        signer,
        ...(signer.signedAt ? { signedAt: signer.signedAt } : {}),
        form,
      });
    const attached = await storeArtifact(chart, artifactOf, provenance, opts.attach, warnings);
    return {
      reference: chart.reference,
      chart: { ...meta, digest: chart.digest },
      referrer: attached.digest,
      mode: attached.mode,
      created: attached.created,
      signer,
      warnings,
    };
  });
}

function registryOf(reference: string): string {
  return parseOciReference(reference, { requireScheme: true }).registry;
}

/** The prov names this archive (by its layer digest, which is the .tgz's sha256) and this name/version. */
function checkBelongs(parsed: ParsedProvenance, chart: ResolvedChart, meta: { name: string; version: string }, fileName: string): void {
  try {
    checkProvenanceMatches(parsed, { fileName, sha256: chart.chart.digest, chartMetadata: meta });
  } catch (err) {
    // Against a registry's chart, a digest mismatch means the prov is about other bytes, not that the chart was altered.
    if (err instanceof ChartTamperedError)
      throw new ProvenanceMismatchError(
        `the .prov is about other archive bytes than ${chart.reference} (chart layer ${chart.chart.digest})`,
        {
          hint: 'attach the .prov made for the archive that was pushed, or sign the pushed chart in place (chartprov sign oci://…)',
        },
      );
    throw err;
  }
}

function pickSigner(s: SignerInfo): Omit<AttachedSigner, 'verified'> {
  return { keyId: s.keyId, fingerprint: s.fingerprint, userId: s.userId, signedAt: s.signedAt };
}

async function signerOf(
  parsed: ParsedProvenance,
  provenance: string,
  chart: ResolvedChart,
  meta: { name: string; version: string },
  fileName: string,
  keys: Awaited<ReturnType<typeof loadVerificationKeys>> | undefined,
  now: Date | undefined,
  warnings: string[],
): Promise<AttachedSigner> {
  const claimed = await claimedSigner(parsed);
  if (!keys) {
    warnings.push(`signature not checked (no --keyring): the .prov says it was signed by key ${claimed.keyId}`);
    return { ...claimed, verified: false };
  }
  try {
    const v = await verifyProvenance({
      provenance,
      fileName,
      sha256: chart.chart.digest,
      keys,
      chartMetadata: meta,
      ...(now ? { now } : {}),
    });
    return { ...pickSigner(v.signer), verified: true };
  } catch (err) {
    if (!(err instanceof SignerUnknownError)) throw err;
    warnings.push(`${err.message}: attached, but nobody with that keyring can verify it`);
    return { ...claimed, verified: false };
  }
}

async function storeArtifact(
  chart: ResolvedChart,
  artifactOf: (form: ProvenanceArtifactForm) => ProvenanceArtifact,
  provenance: string,
  attach: AttachOptions | undefined,
  warnings: string[],
): Promise<{ digest: string; mode: ReferrersMode; created: boolean }> {
  const repo = chart.repo;
  const artifact = artifactOf('oci-1.1');
  // The prov is the identity: attached before (with other annotations, or by
  // another tool) is attached, whatever the manifest around it says.
  const existing = await listReferrers(repo, chart.digest, { artifactType: PROVENANCE_ARTIFACT_TYPE });
  for (const r of existing.referrers) {
    const layer = provenanceLayerOf((await repo.fetchManifest(r.digest)).bytes);
    if (layer?.digest === artifact.provLayer.digest) return { digest: r.digest, mode: existing.mode, created: false };
  }
  await repo.pushBlob({ bytes: Buffer.from(OCI_EMPTY_BYTES) }, { digest: OCI_EMPTY_CONFIG.digest });
  await repo.pushBlob({ bytes: Buffer.from(provenance, 'utf8') }, { digest: artifact.provLayer.digest });
  try {
    return await attachReferrer(repo, chart.digest, artifact.manifestBytes, attach);
  } catch (err) {
    // A registry from before OCI 1.1 (older Quay, ECR, Artifactory) may refuse `subject` or
    // `artifactType` but store a plain manifest; the fallback tag then pairs it with the chart.
    // With a referrers API there is no such excuse, and a compat artifact would not be listed.
    if (!(err instanceof ReferrerRejectedError) || (await hasReferrersApi(repo))) throw err;
    try {
      const attached = await attachReferrer(repo, chart.digest, artifactOf('compat').manifestBytes, attach);
      warnings.push(
        `${repo} refused an OCI 1.1 artifact with a subject; the provenance is stored in the older form (no subject), found through the tag ${fallbackTag(chart.digest)}`,
      );
      return attached;
    } catch (again) {
      if (again instanceof ReferrerRejectedError) throw err;
      throw again;
    }
  }
}
