/**
 * Provenance files attached to a chart as referrers (chartprov attach, or
 * any tool that stores a .prov with `subject` = the chart), found through
 * the referrers API or the fallback tag.
 */
import { RegistryError, VersionNotFoundError } from '../errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { DEFAULT_MAX_PROV_BYTES } from '../provenance/parse.js';
import { PROVENANCE_ARTIFACT_TYPE, provenanceLayerOf } from '../oci/provenance-artifact.js';
import { listReferrers, type ReferrersMode } from '../oci/referrers.js';
import type { Repository } from '../oci/repository.js';

export interface AttachedProvenance {
  /** The referrer manifest's digest. */
  referrer: string;
  mode: ReferrersMode;
  annotations: Record<string, string>;
  /** The .prov text. */
  text: string;
}

/** A provenance referrer as listed, its .prov read only when asked for. */
export interface ListedProvenance {
  referrer: string;
  mode: ReferrersMode;
  annotations: Record<string, string>;
  /** The .prov text; undefined when the referrer is gone or is not a readable provenance artifact. */
  read(): Promise<string | undefined>;
}

/**
 * The provenance referrers of `subject`, in the order the registry lists
 * them, without reading them: a pull that stops at the first signature that
 * holds fetches only that one (a chart may have many).
 */
export async function listedProvenances(repo: Repository, subject: string): Promise<ListedProvenance[]> {
  const { referrers, mode } = await listReferrers(repo, subject, { artifactType: PROVENANCE_ARTIFACT_TYPE });
  return referrers.map((r) => ({
    referrer: r.digest,
    mode,
    annotations: r.annotations ?? {},
    read: () => readProvenanceReferrer(repo, r.digest),
  }));
}

/**
 * Every provenance referrer of `subject` in `repo` with its .prov text.
 * Referrers that are not readable provenance artifacts are skipped (another
 * tool's artifact under our type).
 */
export async function attachedProvenances(repo: Repository, subject: string): Promise<AttachedProvenance[]> {
  const out: AttachedProvenance[] = [];
  for (const listed of await listedProvenances(repo, subject)) {
    const text = await listed.read();
    if (text !== undefined) out.push({ referrer: listed.referrer, mode: listed.mode, annotations: listed.annotations, text });
  }
  return out;
}

/**
 * The .prov of one provenance referrer; undefined when it is gone or not a
 * provenance artifact. A provenance layer larger than any .prov is skipped,
 * or with `tooLarge: 'error'` (audit: say so) a RegistryError.
 */
export async function readProvenanceReferrer(
  repo: Repository,
  digest: string,
  opts: { tooLarge?: 'skip' | 'error' } = {},
): Promise<string | undefined> {
  let manifest;
  try {
    manifest = await repo.fetchManifest(digest);
  } catch (err) {
    // A fallback index may still list a referrer that was deleted since.
    if (err instanceof VersionNotFoundError) return undefined;
    throw err;
  }
  const layer = provenanceLayerOf(manifest.bytes);
  if (!layer) return undefined;
  if (layer.size > DEFAULT_MAX_PROV_BYTES && opts.tooLarge !== 'error') return undefined;
  return readProvenanceLayer(repo, layer);
}

/** A provenance layer's text; one claiming more bytes than any .prov is a RegistryError, never read. */
export async function readProvenanceLayer(repo: Repository, layer: Descriptor): Promise<string> {
  if (layer.size > DEFAULT_MAX_PROV_BYTES)
    throw new RegistryError(`the provenance layer ${layer.digest} of ${repo} is ${layer.size} bytes, larger than any provenance file`);
  return (await repo.fetchBlobBytes(layer, DEFAULT_MAX_PROV_BYTES)).toString('utf8');
}
