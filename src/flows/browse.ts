/**
 * `chartprov show` and `chartprov versions`: what a chart in a registry is
 * (its Chart.yaml as `helm show chart` prints it, digest, whether it carries
 * its provenance) and which versions a repository holds.
 */
import { marshalChartYaml, readChartArchive, type ChartMetadata } from '../chart/index.js';
import { MAX_CHART_BYTES } from '../chart/index.js';
import type { Descriptor } from '../oci/helm-media.js';
import { parseOciReference } from '../oci/reference.js';
import { sortTagsBySemver, versionFromTag } from '../oci/version.js';
import { withRegistryClient, type RegistryOptions } from './registry-client.js';
import { resolveChart } from './resolve-chart.js';

export interface ShowChartOptions extends RegistryOptions {
  ref: string;
  version?: string;
}

export interface ShowChartResult {
  reference: string;
  digest: string;
  name: string;
  version: string;
  /** Chart.yaml as Helm prints it (`helm show chart`). */
  chartYaml: string;
  metadata: ChartMetadata;
  chart: Descriptor;
  /** The provenance layer, when the chart carries one. */
  provenance?: Descriptor;
  annotations: Record<string, string>;
}

export async function showChart(opts: ShowChartOptions): Promise<ShowChartResult> {
  const { registry } = parseOciReference(opts.ref, { requireScheme: true });
  return withRegistryClient({ ...opts, registries: [registry] }, async (client) => {
    const chart = await resolveChart(client, opts.ref, opts.version);
    // The archive is read (and its digest checked) rather than trusting the config blob's copy of the metadata.
    const bytes = await chart.repo.fetchBlobBytes(chart.chart, MAX_CHART_BYTES);
    const archive = await readChartArchive(bytes);
    return {
      reference: chart.reference,
      digest: chart.digest,
      name: archive.metadata.name,
      version: archive.metadata.version,
      chartYaml: marshalChartYaml(archive.metadata),
      metadata: archive.metadata,
      chart: chart.chart,
      provenance: chart.prov,
      annotations: chart.annotations,
    };
  });
}

export interface ListVersionsResult {
  repository: string;
  /** Chart versions, highest first (tags that are not SemVer are left out, as Helm does). */
  versions: string[];
  /** Every tag as the registry lists it. */
  tags: string[];
}

export async function listChartVersions(opts: RegistryOptions & { ref: string }): Promise<ListVersionsResult> {
  const ref = parseOciReference(opts.ref, { requireScheme: true });
  return withRegistryClient({ ...opts, registries: [ref.registry] }, async (client) => {
    const repo = client.repository(ref.registry, ref.repository);
    const tags = await repo.listTags();
    return { repository: `${ref.registry}/${ref.repository}`, versions: sortTagsBySemver(tags).map(versionFromTag), tags };
  });
}
