/**
 * Reading a manifest back as a Helm chart. Stricter than Helm's pull, which
 * takes the last chart layer it meets and ignores a second .prov: with two
 * of either, which one was signed is ambiguous, so we refuse. Layers of other
 * types are ignored, as Helm ignores them.
 */
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth.js';
import { NotAChartArtifactError } from '../errors.js';
import type { Descriptor } from './descriptor.js';
import {
  DOCKER_IMAGE_CONFIG,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  HELM_CONFIG,
  HELM_PROV_LAYER,
  OCI_IMAGE_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
  isChartLayer,
} from './helm-media.js';
import { isDigest } from './digest.js';

export interface HelmManifest {
  config: Descriptor;
  /** The chart layer; its mediaType tells a legacy (`application/tar+gzip`) one. */
  chart: Descriptor;
  prov?: Descriptor;
  /** Manifest annotations ({} when none). */
  annotations: Record<string, string>;
  /** Set when the manifest itself refers to another (OCI 1.1 `subject`). */
  subject?: Descriptor;
}

export function parseHelmManifest(json: string | Uint8Array): HelmManifest {
  const text = typeof json === 'string' ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8');
  if (jsonDepthExceeds(Buffer.from(text))) throw notAChart(`the manifest is nested more than ${MAX_JSON_DEPTH} levels deep`);
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw notAChart('the manifest is not valid JSON');
  }
  if (!isObject(m)) throw notAChart('the manifest is not a JSON object');
  const mediaType = typeof m.mediaType === 'string' ? m.mediaType : undefined;
  if (mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST || (mediaType === undefined && Array.isArray(m.manifests))) {
    throw notAChart('it is an image index (a multi-platform image or a list of artifacts), not a single chart');
  }
  if (m.schemaVersion === 1) throw notAChart('it is a Docker schema 1 image manifest');
  if (mediaType !== undefined && mediaType !== OCI_MANIFEST && mediaType !== DOCKER_MANIFEST) {
    throw notAChart(`its media type is ${mediaType}, not an image manifest`);
  }
  if (m.schemaVersion !== 2) throw notAChart(`malformed manifest: schemaVersion is ${JSON.stringify(m.schemaVersion)}, not 2`);

  const config = descriptor(m.config, 'config');
  if (config.mediaType !== HELM_CONFIG) throw notAChart(describeOther(config.mediaType, m.artifactType));
  if (!Array.isArray(m.layers)) throw notAChart('malformed manifest: it has no layers list');
  const layers = m.layers.map((l, i) => descriptor(l, `layer ${i + 1}`));
  const charts = layers.filter((l) => isChartLayer(l.mediaType));
  const provs = layers.filter((l) => l.mediaType === HELM_PROV_LAYER);
  if (charts.length !== 1) {
    throw notAChart(
      charts.length === 0 ? 'it has a Helm config but no chart layer' : `it has ${charts.length} chart layers; a chart has one`,
    );
  }
  if (provs.length > 1) throw notAChart(`it has ${provs.length} provenance layers; a chart has at most one`);

  const out: HelmManifest = { config, chart: charts[0]!, annotations: stringMap(m.annotations, 'manifest annotations') };
  if (provs[0]) out.prov = provs[0];
  if (m.subject !== undefined) out.subject = descriptor(m.subject, 'subject');
  return out;
}

function describeOther(configType: string, artifactType: unknown): string {
  if (typeof artifactType === 'string' && artifactType !== '') return `it is an artifact of type ${artifactType}`;
  if (configType === OCI_IMAGE_CONFIG || configType === DOCKER_IMAGE_CONFIG) return 'it is a container image';
  return `it is an artifact with config type ${configType}`;
}

function descriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v)) throw notAChart(`malformed manifest: the ${what} descriptor is missing`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || mediaType === '') throw notAChart(`malformed manifest: the ${what} has no mediaType`);
  if (typeof digest !== 'string' || !isDigest(digest)) {
    throw notAChart(`malformed manifest: the ${what} digest ${JSON.stringify(digest)} is not sha256:HEX or sha512:HEX`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw notAChart(`malformed manifest: the ${what} size ${JSON.stringify(size)} is not a byte count`);
  }
  const d: Descriptor = { mediaType, digest, size };
  if (v.annotations !== undefined) d.annotations = stringMap(v.annotations, `${what} annotations`);
  if (typeof v.artifactType === 'string' && v.artifactType !== '') d.artifactType = v.artifactType;
  return d;
}

function stringMap(v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw notAChart(`malformed manifest: ${what} are not a map of strings`);
  }
  return Object.fromEntries(Object.entries(v)) as Record<string, string>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function notAChart(what: string): NotAChartArtifactError {
  return new NotAChartArtifactError(what.startsWith('malformed') ? what : `not a Helm chart: ${what}`);
}
