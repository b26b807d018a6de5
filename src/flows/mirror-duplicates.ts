/**
 * A classic source may list one chart version more than once: a folder with
 * a renamed copy of an archive beside the original, or an index.yaml with
 * the same version twice. Both would go to the same tag. Before anything is
 * mirrored, such versions are settled: when their archives differ, none of
 * them goes in (each is `failed`, DESTINATION_EXISTS, naming the others) —
 * which one the tag should hold is the owner's call, not the order of a
 * listing; when they are the same archive, the first is mirrored and the
 * others are `skipped`.
 */
import { rm } from 'node:fs/promises';
import { DestinationExistsError } from '../errors.js';
import { tagFromVersion } from '../oci/version.js';
import type { ClassicSource, ClassicVersion } from './mirror-source.js';
import { failedResult, nextSlot, type MirrorVersionResult } from './mirror-version.js';
import { toCodedError } from './pool.js';

/**
 * The results decided up front for versions listed more than once (by
 * chart name and destination tag); versions not in the map are mirrored as
 * usual. Archives are read only where the index gives no digest.
 */
export async function settleDuplicates(
  source: ClassicSource,
  staging: string,
  referenceOf: (v: ClassicVersion) => string,
): Promise<Map<ClassicVersion, MirrorVersionResult>> {
  const groups = new Map<string, ClassicVersion[]>();
  for (const v of source.versions) {
    const key = `${v.name}\0${tagFromVersion(v.version)}`;
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  const decided = new Map<ClassicVersion, MirrorVersionResult>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const digests = new Map<ClassicVersion, string>();
    for (const v of group) {
      try {
        digests.set(v, v.indexDigest ?? (await archiveDigest(source, v, staging)));
      } catch (err) {
        decided.set(v, failedResult(v, toCodedError(err)));
      }
    }
    const known = group.filter((v) => digests.has(v));
    if (known.length === 0) continue;
    const distinct = new Set(known.map((v) => digests.get(v)!));
    if (distinct.size > 1) {
      const listing = known.map((v) => `${v.location} (sha256:${digests.get(v)!})`).join(', ');
      for (const v of known) {
        const error = new DestinationExistsError(
          `${v.name} ${v.version} is listed ${known.length} times with different archives, all for ${referenceOf(v)}: ${listing}; none is mirrored`,
          {
            hint: 'a tag holds one chart: remove the copies that are not this version (or give them versions of their own), then mirror again',
          },
        );
        decided.set(v, {
          ...failedResult(v, toCodedError(error)),
          chartDigest: `sha256:${digests.get(v)!}`,
          reference: referenceOf(v),
        });
      }
      continue;
    }
    // The same archive more than once: mirrored once, as the first listed.
    const [first, ...rest] = known;
    for (const v of rest) {
      decided.set(v, {
        name: v.name,
        version: v.version,
        source: v.location,
        status: 'skipped',
        reason: `the same archive as ${first!.location}, listed again: mirrored once, as that one`,
        chartDigest: `sha256:${digests.get(v)!}`,
        reference: referenceOf(v),
      });
    }
  }
  return decided;
}

/** The sha256 of an archive the index gives no digest for (a download is removed at once). */
async function archiveDigest(source: ClassicSource, v: ClassicVersion, staging: string): Promise<string> {
  const archive = await source.archive(v, staging, nextSlot());
  if (archive.temporary) await rm(archive.path, { force: true });
  return archive.info.sha256;
}
