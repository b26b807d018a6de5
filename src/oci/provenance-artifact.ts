/**
 * A chart's .prov as an OCI artifact that refers to the chart (image-spec
 * 1.1): artifactType `application/vnd.cncf.helm.chart.provenance.v1.prov`,
 * the empty config, the prov as its single layer, `subject` = the chart
 * manifest. The chart's own manifest, digest and tag do not change.
 */
import type { Descriptor } from './descriptor.js';
import { descriptorOf } from './descriptor.js';
import { digestOf } from './digest.js';
import { HELM_PROV_LAYER, OCI_EMPTY_CONFIG, OCI_MANIFEST } from './helm-media.js';

/** artifactType of a provenance referrer (the layer's media type, as Helm names it). */
export const PROVENANCE_ARTIFACT_TYPE = HELM_PROV_LAYER;

/** Manifest annotations chartprov writes on a provenance referrer. */
export const ANNOTATION = {
  created: 'org.opencontainers.image.created',
  title: 'org.opencontainers.image.title',
  keyId: 'io.chartprov.signer.keyid',
  fingerprint: 'io.chartprov.signer.fingerprint',
  userId: 'io.chartprov.signer.userid',
  chartName: 'io.chartprov.chart.name',
  chartVersion: 'io.chartprov.chart.version',
  /** The chart manifest's digest, on the older form that cannot name it as `subject`. */
  subject: 'io.chartprov.subject',
} as const;

/**
 * `oci-1.1`: `artifactType`, the empty config and `subject` (image-spec 1.1).
 * `compat`: for registries that refuse 1.1 manifests (400 on `subject` or
 * `artifactType`): the type as the config's media type (what 1.1 readers take
 * as the artifact type when `artifactType` is absent), no `subject`, found
 * only through the fallback tag, which names the chart itself.
 */
export type ProvenanceArtifactForm = 'oci-1.1' | 'compat';

export interface ProvenanceArtifactInput {
  /** The chart manifest's descriptor. */
  subject: Descriptor;
  /** The .prov bytes, exactly as signed. */
  prov: Uint8Array;
  /** `<name>-<version>.tgz.prov`. */
  fileName: string;
  chart: { name: string; version: string };
  signer: { keyId: string; fingerprint?: string; userId?: string };
  /**
   * The signature's own time. It is the `created` annotation so that
   * attaching the same prov twice makes the same manifest (one artifact).
   */
  signedAt?: string;
  /** Default `oci-1.1`. */
  form?: ProvenanceArtifactForm;
}

export interface ProvenanceArtifact {
  manifestBytes: Buffer;
  digest: string;
  provLayer: Descriptor;
  annotations: Record<string, string>;
}

export function provenanceArtifact(input: ProvenanceArtifactInput): ProvenanceArtifact {
  const provLayer: Descriptor = {
    ...descriptorOf(HELM_PROV_LAYER, input.prov),
    annotations: { [ANNOTATION.title]: input.fileName },
  };
  const annotations: Record<string, string> = {};
  if (input.signedAt) annotations[ANNOTATION.created] = input.signedAt;
  annotations[ANNOTATION.chartName] = input.chart.name;
  annotations[ANNOTATION.chartVersion] = input.chart.version;
  annotations[ANNOTATION.keyId] = input.signer.keyId;
  if (input.signer.fingerprint) annotations[ANNOTATION.fingerprint] = input.signer.fingerprint;
  if (input.signer.userId) annotations[ANNOTATION.userId] = input.signer.userId;
  const subject = { mediaType: input.subject.mediaType, digest: input.subject.digest, size: input.subject.size };
  // image-spec's field order (Go's struct), as ORAS and Helm write manifests.
  const manifest =
    input.form === 'compat'
      ? {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { ...OCI_EMPTY_CONFIG, mediaType: PROVENANCE_ARTIFACT_TYPE },
          layers: [provLayer],
          annotations: { ...annotations, [ANNOTATION.subject]: subject.digest },
        }
      : {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: PROVENANCE_ARTIFACT_TYPE,
          config: OCI_EMPTY_CONFIG,
          layers: [provLayer],
          subject,
          annotations,
        };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { manifestBytes, digest: digestOf(manifestBytes), provLayer, annotations: manifest.annotations };
}

/** The provenance layer of a referrer manifest, or undefined when it is another kind of artifact. */
export function provenanceLayerOf(manifestBytes: Uint8Array): Descriptor | undefined {
  let m: { artifactType?: unknown; config?: { mediaType?: unknown }; layers?: unknown };
  try {
    m = JSON.parse(Buffer.from(manifestBytes).toString('utf8')) as typeof m;
  } catch {
    return undefined;
  }
  if (m.artifactType !== PROVENANCE_ARTIFACT_TYPE && m.config?.mediaType !== PROVENANCE_ARTIFACT_TYPE) return undefined;
  if (!Array.isArray(m.layers)) return undefined;
  const layer = (m.layers as Partial<Descriptor>[]).find((l) => l?.mediaType === HELM_PROV_LAYER);
  if (!layer || typeof layer.digest !== 'string' || typeof layer.size !== 'number') return undefined;
  return { mediaType: HELM_PROV_LAYER, digest: layer.digest, size: layer.size };
}
