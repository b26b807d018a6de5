/**
 * `chartprov push CHART.tgz… oci://host/project`: what `helm push` stores
 * (same config, layers, annotations and tag), except that a provenance file
 * is checked to belong to its chart before it goes up as the provenance layer,
 * and `--sign` makes one on the way. Many charts share one connection pool and
 * go up in parallel; one chart's failure does not stop the others.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { readChartArchive, type ChartArchiveInfo } from '../chart/index.js';
import { ProvenanceMissingError, ReferenceInvalidError, UsageError } from '../errors.js';
import type { RegistryClient } from '../oci/client.js';
import { digestOf } from '../oci/digest.js';
import { formatRfc3339, helmConfigJson, helmManifestAnnotations, helmManifestJson } from '../oci/helm-artifact.js';
import { HELM_CHART_LAYER, HELM_CONFIG, HELM_PROV_LAYER, OCI_MANIFEST } from '../oci/helm-media.js';
import { chartRepository, formatOciReference, parseOciReference, type OciReference } from '../oci/reference.js';
import { tagFromVersion } from '../oci/version.js';
import { buildProvenanceMessage, checkProvenanceMatches, parseProvenance, verifyProvenance } from '../provenance/index.js';
import type { SignerInfo } from '../provenance/index.js';
import { withRegistryClient, type RegistryOptions } from './registry-client.js';
import { createSigner, signAndCheck, type Signer, type SignerOptions } from './signer.js';
import { loadVerificationKeys, readProvenanceFile } from './verify-charts.js';
import { runBatch, type CodedError } from './pool.js';

export interface PushChartsOptions extends RegistryOptions {
  /** Chart archives (.tgz). */
  charts: string[];
  /** `oci://host[:port]/path`: each chart lands in `<path>/<chart name>:<version>`. */
  destination: string;
  /** The .prov to push with a single chart; default `<chart>.prov` when it exists. */
  provPath?: string;
  /** Fail a chart that has no .prov instead of pushing it without one. */
  requireProvenance?: boolean;
  /** Sign each chart on the way (the prov is pushed, not written to disk). */
  sign?: SignerOptions | Signer | false;
  /** Also check each prov's signature against these public keyrings before pushing. */
  keyrings?: string[];
  /** Repositories of the same registry that may already hold the blobs (cross-repository mount). */
  mountFrom?: string[];
  /** `org.opencontainers.image.created`; default SOURCE_DATE_EPOCH, else the archive's modification time (as Helm). */
  created?: Date;
  /** Charts pushed at once (default 8). */
  jobs?: number;
  onResult?: (result: PushResult, done: number, total: number) => void;
}

export type PushResult =
  | {
      ok: true;
      chart: string;
      /** `oci://host/path/name:tag`. */
      ref: string;
      repository: string;
      tag: string;
      /** Manifest digest. */
      digest: string;
      name: string;
      version: string;
      /** Whether a provenance layer went up, and whence. */
      provenance: 'file' | 'signed' | 'none';
      /** Set when the prov was made now, or its signature was checked (--keyring). */
      signer?: SignerInfo;
      blobs: { uploaded: number; skipped: number; mounted: number };
    }
  | { ok: false; chart: string; error: CodedError };

export interface PushChartsResult {
  pushed: number;
  failed: number;
  results: PushResult[];
}

export async function pushCharts(opts: PushChartsOptions): Promise<PushChartsResult> {
  if (opts.charts.length === 0)
    throw new UsageError('no chart to push', { hint: 'give one or more CHART.tgz files and an oci:// destination' });
  if (opts.provPath && opts.charts.length > 1) {
    throw new UsageError('--prov applies to a single chart', { hint: 'push charts one at a time, or put each .prov beside its chart' });
  }
  const base = parseOciReference(opts.destination, { requireScheme: true, allowNoPath: true });
  if (base.tag || base.digest) {
    throw new ReferenceInvalidError(`push destination ${opts.destination} must not have a tag or digest`, {
      hint: 'give the project path only, e.g. oci://HOST/helm-charts: the chart name and version make the rest',
    });
  }
  // Keys are resolved (and unlocked) once, before anything goes over the wire.
  const signer = !opts.sign ? undefined : 'sign' in opts.sign ? opts.sign : await createSigner(opts.sign);
  const keys = opts.keyrings?.length ? await loadVerificationKeys(opts.keyrings) : undefined;
  return withRegistryClient({ ...opts, registries: [base.registry] }, async (client) => {
    const results = await runBatch(
      opts.charts,
      opts.jobs ?? 8,
      (chart) => pushOne(client, base, chart, { ...opts, signer, keys }),
      (chart, error): PushResult => ({ ok: false, chart, error }),
      opts.onResult,
    );
    const pushed = results.filter((r) => r.ok).length;
    return { pushed, failed: results.length - pushed, results };
  });
}

interface Prepared {
  archive: ChartArchiveInfo;
  prov?: { text: string; from: 'file' | 'signed'; signer?: SignerInfo };
}

async function prepare(
  chart: string,
  opts: PushChartsOptions & { signer?: Signer; keys?: Awaited<ReturnType<typeof loadVerificationKeys>> },
): Promise<Prepared> {
  const archive = await readChartArchive(chart);
  const fileName = basename(chart);
  const chartMetadata = { name: archive.metadata.name, version: archive.metadata.version };
  if (opts.signer) {
    const message = buildProvenanceMessage(archive.metadata, fileName, archive.sha256);
    const signed = await signAndCheck(opts.signer, message, fileName, archive.sha256);
    return { archive, prov: { text: signed.prov, from: 'signed', signer: signed.signer } };
  }
  const provPath = opts.provPath ?? `${chart}.prov`;
  // No .prov beside the chart: pushed without one, as helm does, unless one was named or required.
  const text = await readProvenanceFile(provPath, fileName, 'sign it on the way with --sign, or name its .prov with --prov').catch(
    (err: unknown) => {
      if (err instanceof ProvenanceMissingError && !opts.provPath && !opts.requireProvenance) return undefined;
      throw err;
    },
  );
  if (text === undefined) return { archive };
  const parsed = parseProvenance(text);
  // Helm pushes any bytes as the provenance layer; we push only a prov that is about this very archive.
  checkProvenanceMatches(parsed, { fileName, sha256: archive.sha256, chartMetadata });
  const checked = opts.keys
    ? await verifyProvenance({ provenance: parsed, fileName, sha256: archive.sha256, keys: opts.keys, chartMetadata })
    : undefined;
  return { archive, prov: { text, from: 'file', signer: checked?.signer } };
}

async function pushOne(
  client: RegistryClient,
  base: OciReference,
  chart: string,
  opts: PushChartsOptions & { signer?: Signer; keys?: Awaited<ReturnType<typeof loadVerificationKeys>> },
): Promise<PushResult> {
  const { archive, prov } = await prepare(chart, opts);
  const { name, version } = archive.metadata;
  const repository = chartRepository(base, name);
  const tag = tagFromVersion(version);
  const repo = client.repository(base.registry, repository);

  const configBytes = Buffer.from(helmConfigJson(archive.metadata), 'utf8');
  const provBytes = prov ? Buffer.from(prov.text, 'utf8') : undefined;
  const chartDigest = `sha256:${archive.sha256}`;
  // One HEAD for the chart layer decides for all three blobs: a registry that
  // lacks it is getting a new version, whose config and prov are new too, so
  // their HEADs would only cost round trips (a fifth of a push's requests).
  const chartPresent = await repo.statBlob(chartDigest, { forPush: true });
  const blobOpts = { mountFrom: opts.mountFrom, assumeAbsent: chartPresent === undefined };
  const [configBlob, chartBlob, provBlob] = await Promise.all([
    repo.pushBlob({ bytes: configBytes }, blobOpts),
    chartPresent === undefined
      ? repo.pushBlob({ path: chart }, { ...blobOpts, digest: chartDigest })
      : { digest: chartDigest, size: chartPresent, how: 'exists' as const },
    provBytes ? repo.pushBlob({ bytes: provBytes }, blobOpts) : undefined,
  ]);
  const manifest = helmManifestJson({
    config: { mediaType: HELM_CONFIG, digest: configBlob.digest, size: configBytes.length },
    chart: { mediaType: HELM_CHART_LAYER, digest: chartDigest, size: archive.size },
    prov: provBytes ? { mediaType: HELM_PROV_LAYER, digest: digestOf(provBytes), size: provBytes.length } : undefined,
    annotations: helmManifestAnnotations(archive.metadata, { created: await createdTime(chart, opts) }),
  });
  const { digest } = await repo.pushManifest(tag, Buffer.from(manifest, 'utf8'), OCI_MANIFEST);
  const blobs = [configBlob, chartBlob, provBlob].filter((b) => b !== undefined);
  return {
    ok: true,
    chart,
    ref: formatOciReference({ registry: base.registry, repository, tag }),
    repository,
    tag,
    digest,
    name,
    version,
    provenance: prov ? prov.from : 'none',
    signer: prov?.signer,
    blobs: {
      uploaded: blobs.filter((b) => b.how === 'uploaded').length,
      skipped: blobs.filter((b) => b.how === 'exists').length,
      mounted: blobs.filter((b) => b.how === 'mounted').length,
    },
  };
}

/**
 * Helm stamps the archive's modification time, in the machine's time zone.
 * SOURCE_DATE_EPOCH wins (reproducible pushes: the same chart gives the same
 * manifest digest), as it does for archive times.
 */
async function createdTime(chart: string, opts: PushChartsOptions): Promise<string> {
  if (opts.created) return formatRfc3339(opts.created);
  const epoch = (opts.env ?? process.env).SOURCE_DATE_EPOCH;
  if (epoch && /^\d+$/.test(epoch)) return formatRfc3339(new Date(Number(epoch) * 1000));
  const mtime = (await stat(chart)).mtime;
  return formatRfc3339(mtime, -mtime.getTimezoneOffset());
}
