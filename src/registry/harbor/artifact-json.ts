/**
 * Harbor's Artifact, Tag, Reference and Accessory JSON, derived as Harbor's
 * manifest abstractors and artifact processors derive them
 * (src/controller/artifact/manifest, processor, middleware/subject).
 *
 * Harbor keeps numeric ids in its database; we have none, so ids are a
 * stable 48-bit number hashed from what the object is (repository, digest,
 * tag): the same object always gets the same id and JSON clients keep
 * integer precision. Times the storage does not record (push and pull
 * times) are left out rather than invented.
 */
import { createHash } from 'node:crypto';
import { DOCKER_IMAGE_CONFIG, DOCKER_MANIFEST_LIST, HELM_CONFIG, OCI_IMAGE_CONFIG, OCI_INDEX } from '../../oci/helm-media.js';
import type { RegistryStorage } from '../storage/index.js';
import { readBlobBytes } from '../storage/blob-bytes.js';
import type { ManifestFacts, RepositoryView } from './repository-view.js';

/** A stable id for something Harbor would number. */
export function stableId(kind: string, key: string): number {
  return parseInt(createHash('sha256').update(`${kind}\0${key}`).digest('hex').slice(0, 12), 16);
}

// Processors Harbor registers by media type, with the type each reports.
const PROCESSOR_TYPES: Record<string, string> = {
  [HELM_CONFIG]: 'CHART',
  [OCI_IMAGE_CONFIG]: 'IMAGE',
  [DOCKER_IMAGE_CONFIG]: 'IMAGE',
  [OCI_INDEX]: 'IMAGE',
  [DOCKER_MANIFEST_LIST]: 'IMAGE',
  'application/vnd.cnab.manifest.v1': 'CNAB',
  'application/vnd.wasm.config.v1+json': 'WASM',
};
// Harbor's default processor names other artifacts from their config media type.
const CONFIG_TYPE = /^application\/vnd\.[^.]*\.(.*)\.config\.[^.]*\+json$/;

function isIndex(m: ManifestFacts): boolean {
  return m.mediaType === OCI_INDEX || m.mediaType === DOCKER_MANIFEST_LIST;
}

/** `media_type`: the config's media type, or the index's own. */
export function artifactMediaType(m: ManifestFacts): string {
  return isIndex(m) ? m.mediaType : (m.config?.mediaType ?? m.mediaType);
}

/** `artifact_type`: the manifest's artifactType, else (not for an index) its config media type. */
export function artifactTypeField(m: ManifestFacts): string | undefined {
  if (m.artifactType) return m.artifactType;
  return isIndex(m) ? undefined : m.config?.mediaType;
}

/** `type`: CHART, IMAGE, …, or UNKNOWN. */
export function artifactKind(m: ManifestFacts): string {
  const mediaType = artifactMediaType(m);
  const registered = PROCESSOR_TYPES[artifactTypeField(m) ?? mediaType];
  if (registered) return registered;
  const match = CONFIG_TYPE.exec(mediaType);
  return match ? match[1]!.toUpperCase() : 'UNKNOWN';
}

const NOTATION_SIGNATURE = 'application/vnd.cncf.notary.signature';
const COSIGN_TYPES = new Set(['application/vnd.dev.cosign.artifact.sig.v1+json', 'application/vnd.dev.sigstore.bundle.v0.3+json']);
const HARBOR_SBOM = 'application/vnd.goharbor.harbor.sbom.v1';
const NYDUS_BOOTSTRAP = 'containerd.io/snapshot/nydus-bootstrap';

/** The accessory `type` Harbor records when a manifest with a subject is pushed. */
export function accessoryKind(m: ManifestFacts): string {
  const from = m.artifactType ?? m.config?.mediaType;
  if (from === NOTATION_SIGNATURE) return 'signature.notation';
  if (from !== undefined && COSIGN_TYPES.has(from)) return 'signature.cosign';
  if (from === HARBOR_SBOM) return 'sbom.harbor';
  if ((from === OCI_IMAGE_CONFIG || from === DOCKER_IMAGE_CONFIG) && m.lastLayerAnnotations?.[NYDUS_BOOTSTRAP] !== undefined)
    return 'accelerator.nydus';
  return 'subject.accessory';
}

export interface ArtifactJsonOptions {
  projectId: number;
  withTags: boolean;
  withAccessories: boolean;
  /** Chart metadata (the config blob) for `extra_attrs`, when it was read. */
  extraAttrs?: Record<string, unknown>;
}

export function artifactJson(view: RepositoryView, m: ManifestFacts, opts: ArtifactJsonOptions): Record<string, unknown> {
  const repositoryId = stableId('repository', view.name);
  const id = artifactId(view, m.digest);
  const json: Record<string, unknown> = {
    id,
    type: artifactKind(m),
    media_type: artifactMediaType(m),
    manifest_media_type: m.mediaType,
    project_id: opts.projectId,
    repository_id: repositoryId,
    repository_name: view.name,
    digest: m.digest,
    size: view.sizeOf(m.digest),
  };
  const artifactType = artifactTypeField(m);
  if (artifactType) json.artifact_type = artifactType;
  if (opts.extraAttrs && Object.keys(opts.extraAttrs).length > 0) json.extra_attrs = opts.extraAttrs;
  if (m.annotations) json.annotations = m.annotations;
  if (m.children.length > 0) {
    json.references = m.children.map((c) => ({
      parent_id: id,
      child_id: artifactId(view, c.digest),
      child_digest: c.digest,
      ...(c.platform ? { platform: platformJson(c.platform) } : {}),
      ...(c.annotations ? { annotations: c.annotations } : {}),
      ...(c.urls && c.urls.length > 0 ? { urls: c.urls } : {}),
    }));
  }
  const tags = opts.withTags ? view.tagsOf(m.digest) : [];
  if (tags.length > 0) {
    json.tags = tags.map((name) => ({
      id: stableId('tag', `${view.name}:${name}`),
      repository_id: repositoryId,
      artifact_id: id,
      name,
      immutable: false,
    }));
  }
  const accessories = opts.withAccessories ? view.accessoriesOf(m.digest) : [];
  if (accessories.length > 0) json.accessories = accessories.map((a) => accessoryJson(view, a, m.digest));
  return json;
}

function artifactId(view: RepositoryView, digest: string): number {
  return stableId('artifact', `${view.name}@${digest}`);
}

function accessoryJson(view: RepositoryView, a: ManifestFacts, subject: string): Record<string, unknown> {
  return {
    id: stableId('accessory', `${view.name}@${a.digest}`),
    artifact_id: artifactId(view, a.digest),
    subject_artifact_id: artifactId(view, subject),
    subject_artifact_digest: subject,
    subject_artifact_repo: view.name,
    size: view.sizeOf(a.digest),
    digest: a.digest,
    type: accessoryKind(a),
    icon: '',
  };
}

// image-spec's platform field names, as Harbor's Platform model spells them.
function platformJson(p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof p.architecture === 'string') out.architecture = p.architecture;
  if (typeof p.os === 'string') out.os = p.os;
  if (Array.isArray(p['os.features'])) out['os.features'] = p['os.features'];
  if (typeof p['os.version'] === 'string') out['os.version'] = p['os.version'];
  if (typeof p.variant === 'string') out.variant = p.variant;
  return out;
}

// A chart's config is its Chart.yaml as JSON, a few KiB; anything larger is not worth reading per listing.
const MAX_CONFIG_BYTES = 256 * 1024;

/**
 * `extra_attrs`: Harbor fills it from the config blob for charts and for
 * artifacts whose type it could name; images get a fixed subset we do not
 * need for charts, so they get none here.
 */
export async function extraAttrsOf(storage: RegistryStorage, m: ManifestFacts): Promise<Record<string, unknown> | undefined> {
  const kind = artifactKind(m);
  if (kind === 'UNKNOWN' || kind === 'IMAGE' || !m.config?.digest) return undefined;
  if (m.config.size === 0 || m.config.size > MAX_CONFIG_BYTES) return undefined;
  try {
    const value: unknown = JSON.parse((await readBlobBytes(storage, m.config.digest, MAX_CONFIG_BYTES)).toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    // Decoration only: a config that is gone (gc) or not JSON must not fail the listing it decorates.
    return undefined;
  }
}
