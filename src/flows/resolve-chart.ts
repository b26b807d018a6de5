/**
 * From what a user types (`oci://host/path/name`, `--version ^1.2`, a tag or
 * a digest) to one chart manifest: the tag Helm would pick, the manifest read
 * and checked to be a Helm chart, its config's name and version.
 */
import { RegistryError, UsageError, VersionNotFoundError } from '../errors.js';
import type { RegistryClient } from '../oci/client.js';
import { parseHelmManifest } from '../oci/helm-artifact.js';
import type { Descriptor } from '../oci/helm-media.js';
import { formatOciReference, parseOciReference, type OciReference } from '../oci/reference.js';
import type { Repository } from '../oci/repository.js';
import { resolveVersionTag, tagFromVersion } from '../oci/version.js';

export interface ResolvedChart {
  repo: Repository;
  ref: OciReference;
  /** `oci://host/path/name:tag` or `…@sha256:…` as resolved. */
  reference: string;
  tag?: string;
  /** Manifest digest. */
  digest: string;
  manifestBytes: Buffer;
  /** The manifest's media type, for descriptors that point at it (a referrer's `subject`). */
  mediaType: string;
  config: Descriptor;
  chart: Descriptor;
  prov?: Descriptor;
  annotations: Record<string, string>;
}

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export async function resolveChart(client: RegistryClient, input: string, version?: string): Promise<ResolvedChart> {
  const ref = parseOciReference(input, { requireScheme: true });
  if (version && (ref.tag || ref.digest)) {
    throw new UsageError(`${input} already names a ${ref.digest ? 'digest' : 'tag'}; --version ${version} cannot also apply`, {
      hint: 'give either oci://…/NAME --version V or oci://…/NAME:TAG',
    });
  }
  const repo = client.repository(ref.registry, ref.repository);
  const tag = ref.digest ? undefined : (ref.tag ?? (await pickTag(repo, version)));
  const fetched = await repo.fetchManifest(ref.digest ?? tag!);
  const parsed = parseHelmManifest(fetched.bytes);
  return {
    repo,
    ref,
    reference: formatOciReference({ registry: ref.registry, repository: ref.repository, tag, digest: ref.digest }),
    tag,
    digest: fetched.digest,
    manifestBytes: fetched.bytes,
    mediaType: fetched.mediaType,
    config: parsed.config,
    chart: parsed.chart,
    prov: parsed.prov,
    annotations: parsed.annotations ?? {},
  };
}

/**
 * An exact version is tried as a tag first (one request instead of listing
 * every tag); a range, or an exact version that is not there, is resolved
 * against the tag list with Helm's rules.
 */
async function pickTag(repo: Repository, version: string | undefined): Promise<string> {
  if (version && EXACT_VERSION.test(version)) {
    const tag = tagFromVersion(version);
    if (await repo.headManifest(tag)) return tag;
  }
  const tags = await repo.listTags();
  if (tags.length === 0) throw new VersionNotFoundError(`${repo} has no tags`, { hint: 'push a chart there first' });
  return resolveVersionTag(tags, version);
}

/** The chart's name and version from its config blob (small JSON, digest-checked). */
export async function readChartConfig(chart: ResolvedChart): Promise<{ name: string; version: string }> {
  return parseChartConfig(await chart.repo.fetchBlobBytes(chart.config, 1 << 20), chart.reference);
}

/** Name and version from a chart config blob's bytes; `reference` names the chart in messages. */
export function parseChartConfig(bytes: Buffer, reference: string): { name: string; version: string } {
  let config: { name?: unknown; version?: unknown };
  try {
    config = JSON.parse(bytes.toString('utf8')) as typeof config;
  } catch (cause) {
    throw new RegistryError(`the config of ${reference} is not valid JSON`, undefined, { cause });
  }
  if (typeof config.name !== 'string' || typeof config.version !== 'string')
    throw new RegistryError(`the config of ${reference} has no chart name and version`);
  return { name: config.name, version: config.version };
}
