/**
 * Media types of Helm charts in OCI registries (helm pkg/registry
 * constants.go) and of the manifests around them (image-spec, Docker).
 */
import type { Descriptor } from './descriptor.js';

export type { Descriptor } from './descriptor.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
export const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
export const HELM_PROV_LAYER = 'application/vnd.cncf.helm.chart.provenance.v1.prov';
/** Charts pushed by Helm before 3.7 (and some tools since); Helm still pulls them, with a warning. */
export const HELM_LEGACY_CHART_LAYER = 'application/tar+gzip';

/** Config of artifacts that need none, e.g. a .prov attached as a referrer. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_EMPTY_BYTES = '{}';
export const OCI_EMPTY_CONFIG: Readonly<Descriptor> = Object.freeze({
  mediaType: OCI_EMPTY,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
});

/** Container image configs: named when a reference turns out to be an image. */
export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const DOCKER_IMAGE_CONFIG = 'application/vnd.docker.container.image.v1+json';

/**
 * Every manifest type chartprov can read. Registries such as distribution 2.8
 * only return an OCI manifest when Accept lists its type, so send them all.
 */
export const MANIFEST_ACCEPT: readonly string[] = Object.freeze([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST]);
export const MANIFEST_ACCEPT_HEADER = MANIFEST_ACCEPT.join(', ');

/** A chart archive layer, current or legacy (Helm pulls either). */
export function isChartLayer(mediaType: string): boolean {
  return mediaType === HELM_CHART_LAYER || mediaType === HELM_LEGACY_CHART_LAYER;
}
