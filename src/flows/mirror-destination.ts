/**
 * The destination side of `chartprov mirror`: what a repository already
 * holds (one tag list per repository, then a manifest GET only for tags that
 * are there), and the two ways a version goes in — Helm's artifact with the
 * .prov as its provenance layer (what `helm push` writes), or the chart
 * alone with the .prov attached as a referrer. Writes go blobs first, then
 * the manifest with its tag, then (attach) the referrer, so an interrupted
 * run leaves either nothing, a complete chart, or a chart whose referrer a
 * re-run adds.
 */
import type { ChartArchiveInfo } from '../chart/archive.js';
import { ChartNotFoundError } from '../errors.js';
import type { RegistryClient } from '../oci/client.js';
import type { Descriptor } from '../oci/descriptor.js';
import { digestOf } from '../oci/digest.js';
import { helmConfigJson, helmManifestAnnotations, helmManifestJson, parseHelmManifest } from '../oci/helm-artifact.js';
import { HELM_CHART_LAYER, HELM_CONFIG, HELM_PROV_LAYER, OCI_EMPTY_BYTES, OCI_EMPTY_CONFIG, OCI_MANIFEST } from '../oci/helm-media.js';
import { PROVENANCE_ARTIFACT_TYPE, provenanceArtifact, provenanceLayerOf } from '../oci/provenance-artifact.js';
import { attachReferrer, listReferrers, type AttachOptions } from '../oci/referrers.js';
import type { Repository } from '../oci/repository.js';
import type { MirrorSigner } from './mirror-trust.js';

/** A chart version the destination holds at its tag. */
export interface ExistingChart {
  digest: string;
  mediaType: string;
  size: number;
  chart: Descriptor;
  prov?: Descriptor;
}

export class MirrorDestination {
  private readonly tagLists = new Map<string, Promise<Set<string>>>();
  private readonly emptyConfigs = new Map<string, Promise<unknown>>();

  constructor(
    readonly client: RegistryClient,
    readonly registry: string,
    private readonly attachOptions: AttachOptions = {},
  ) {}

  repository(name: string): Repository {
    return this.client.repository(this.registry, name);
  }

  /** The repository's tags, listed once per run; none when it does not exist yet. */
  tags(repo: Repository): Promise<ReadonlySet<string>> {
    let list = this.tagLists.get(repo.name);
    if (!list) {
      list = repo.listTags().then(
        (tags) => new Set(tags),
        (err: unknown) => {
          if (err instanceof ChartNotFoundError) return new Set<string>();
          throw err;
        },
      );
      list.catch(() => this.tagLists.delete(repo.name));
      this.tagLists.set(repo.name, list);
    }
    return list;
  }

  /**
   * Records a tag this run has just pushed in the repository's listed tags,
   * so that nothing later in the run takes it for free: another chart for
   * the same tag then finds it there (DESTINATION_EXISTS), the same one skips.
   */
  async pushed(repo: Repository, tag: string): Promise<void> {
    const list = this.tagLists.get(repo.name);
    // Without a list (never read, or its read failed), the next read lists the tag from the registry.
    if (list) (await list.catch(() => undefined))?.add(tag);
  }

  /** The chart at `tag`, or undefined when the tag is not there (no request when the tag list says so). */
  async existing(repo: Repository, tag: string): Promise<ExistingChart | undefined> {
    if (!(await this.tags(repo)).has(tag)) return undefined;
    const m = await repo.fetchManifest(tag);
    const parsed = parseHelmManifest(m.bytes);
    return {
      digest: m.digest,
      mediaType: m.mediaType,
      size: m.bytes.byteLength,
      chart: parsed.chart,
      ...(parsed.prov ? { prov: parsed.prov } : {}),
    };
  }

  /** Whether `existing` carries the .prov whose digest is `provDigest`: as its layer, or as a provenance referrer. */
  async hasProv(repo: Repository, existing: ExistingChart, provDigest: string): Promise<boolean> {
    if (existing.prov?.digest === provDigest) return true;
    const { referrers } = await listReferrers(repo, existing.digest, { artifactType: PROVENANCE_ARTIFACT_TYPE });
    for (const r of referrers) {
      const layer = provenanceLayerOf((await repo.fetchManifest(r.digest)).bytes);
      if (layer?.digest === provDigest) return true;
    }
    return false;
  }

  /**
   * Helm's chart artifact (config, chart layer, optional provenance layer,
   * Helm's annotations) at `tag`; returns the manifest's descriptor.
   */
  async pushChart(
    repo: Repository,
    tag: string,
    archive: { path: string; info: ChartArchiveInfo },
    prov: string | undefined,
    created: string,
  ): Promise<{ digest: string; mediaType: string; size: number }> {
    const { info } = archive;
    const configBytes = Buffer.from(helmConfigJson(info.metadata), 'utf8');
    const provBytes = prov === undefined ? undefined : Buffer.from(prov, 'utf8');
    const chartDigest = `sha256:${info.sha256}`;
    // One HEAD for the chart layer decides for the three blobs, as push does: a registry
    // without it is getting a new version, whose config and prov are new too.
    const present = await repo.statBlob(chartDigest, { forPush: true });
    const blobOpts = { assumeAbsent: present === undefined };
    const [config] = await Promise.all([
      repo.pushBlob({ bytes: configBytes }, blobOpts),
      present === undefined ? repo.pushBlob({ path: archive.path }, { ...blobOpts, digest: chartDigest }) : undefined,
      provBytes ? repo.pushBlob({ bytes: provBytes }, blobOpts) : undefined,
    ]);
    const manifest = Buffer.from(
      helmManifestJson({
        config: { mediaType: HELM_CONFIG, digest: config.digest, size: configBytes.length },
        chart: { mediaType: HELM_CHART_LAYER, digest: chartDigest, size: info.size },
        ...(provBytes ? { prov: { mediaType: HELM_PROV_LAYER, digest: digestOf(provBytes), size: provBytes.length } } : {}),
        annotations: helmManifestAnnotations(info.metadata, { created }),
      }),
      'utf8',
    );
    const { digest } = await repo.pushManifest(tag, manifest, OCI_MANIFEST);
    return { digest, mediaType: OCI_MANIFEST, size: manifest.byteLength };
  }

  /**
   * The .prov as an artifact referring to the chart (what `chartprov attach`
   * stores); the same prov attached before is found and left alone.
   */
  async attachProv(
    repo: Repository,
    subject: { digest: string; mediaType: string; size: number },
    prov: string,
    chart: { name: string; version: string },
    signer: MirrorSigner,
  ): Promise<{ digest: string; created: boolean }> {
    const artifact = provenanceArtifact({
      subject,
      prov: Buffer.from(prov, 'utf8'),
      fileName: `${chart.name}-${chart.version}.tgz.prov`,
      chart,
      signer,
      ...(signer.signedAt ? { signedAt: signer.signedAt } : {}),
    });
    // Every provenance artifact shares the empty config: sent once per repository, since
    // parallel uploads of one blob can make distribution 2.8 answer 500.
    let empty = this.emptyConfigs.get(repo.name);
    if (!empty) {
      empty = repo.pushBlob({ bytes: Buffer.from(OCI_EMPTY_BYTES) }, { digest: OCI_EMPTY_CONFIG.digest });
      empty.catch(() => this.emptyConfigs.delete(repo.name));
      this.emptyConfigs.set(repo.name, empty);
    }
    await Promise.all([empty, repo.pushBlob({ bytes: Buffer.from(prov, 'utf8') }, { digest: artifact.provLayer.digest })]);
    const attached = await attachReferrer(repo, subject.digest, artifact.manifestBytes, this.attachOptions);
    return { digest: attached.digest, created: attached.created };
  }
}
