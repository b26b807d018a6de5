/**
 * Puts hostile bytes into a registry as a Helm chart, past every check
 * `chartprov push` and `helm push` make: blobs and manifest go up raw through
 * the library's Repository, as any other client could send them.
 */
import { pushBlob } from '../../src/oci/blob-upload.js';
import type { RegistryClient } from '../../src/oci/client.js';
import { digestOf } from '../../src/oci/digest.js';
import { HELM_CHART_LAYER, HELM_CONFIG, HELM_PROV_LAYER, OCI_MANIFEST } from '../../src/oci/helm-media.js';

export interface RawChart {
  /** The chart archive's bytes, whatever they are. */
  chart: Buffer;
  /** A provenance layer, whatever it is. */
  prov?: Buffer;
  /** Overrides of the chart layer's descriptor (a size that lies). */
  chartDescriptor?: { size?: number };
  name?: string;
  version?: string;
}

/** Pushes `raw` as `<repository>:<version>`; returns the manifest digest. */
export async function pushRawChart(client: RegistryClient, host: string, repository: string, raw: RawChart): Promise<string> {
  const repo = client.repository(host, repository);
  const name = raw.name ?? 'evil';
  const version = raw.version ?? '1.0.0';
  const config = Buffer.from(JSON.stringify({ name, version, apiVersion: 'v2' }));
  const [c, l, p] = await Promise.all([
    pushBlob(repo, { bytes: config }),
    pushBlob(repo, { bytes: raw.chart }),
    raw.prov ? pushBlob(repo, { bytes: raw.prov }) : undefined,
  ]);
  const layers = [{ mediaType: HELM_CHART_LAYER, digest: l.digest, size: raw.chartDescriptor?.size ?? l.size }];
  if (p) layers.push({ mediaType: HELM_PROV_LAYER, digest: p.digest, size: p.size });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: HELM_CONFIG, digest: c.digest, size: c.size },
      layers,
    }),
  );
  await repo.pushManifest(version, manifest, OCI_MANIFEST);
  return digestOf(manifest);
}
