/**
 * Chart versions ↔ registry tags, and `--version` resolution as Helm does it
 * (helm pkg/registry: Client.Tags + GetTagMatchingVersionOrConstraint).
 */
import { VersionNotFoundError } from '../errors.js';
import {
  ConstraintSyntaxError,
  type HelmMajor,
  type SemVersion,
  compareVersions,
  parseConstraints,
  parseLooseVersion,
  parseStrictVersion,
  satisfies,
} from './masterminds-semver.js';

export type { HelmMajor } from './masterminds-semver.js';

/** Tags cannot hold `+`, so Helm stores SemVer build metadata after `_` (helm#10166). */
export function tagFromVersion(version: string): string {
  return version.replaceAll('+', '_');
}

export function versionFromTag(tag: string): string {
  return tag.replaceAll('_', '+');
}

/**
 * Registry tags that are chart versions, highest first. Like Helm's
 * Client.Tags: a tag counts only if it is strict SemVer once `_` is read as
 * `+` (so `latest`, `v1.0.0` and `1.0` are dropped, not sorted last).
 * Tags equal but for build metadata keep the registry's order (Helm's sort is
 * unstable there).
 */
export function sortTagsBySemver(tags: readonly string[]): string[] {
  return semverTags(tags).map((t) => t.tag);
}

interface SemverTag {
  tag: string;
  version: string;
  parsed: SemVersion;
}

function semverTags(tags: readonly string[]): SemverTag[] {
  const out: SemverTag[] = [];
  for (const tag of tags) {
    const parsed = parseStrictVersion(versionFromTag(tag));
    if (parsed) out.push({ tag, version: versionFromTag(tag), parsed });
  }
  return out.sort((a, b) => compareVersions(b.parsed, a.parsed));
}

export interface ResolveVersionOptions {
  /**
   * Helm 4.1 (Masterminds semver 3.4.0, the default) lets prereleases in for
   * a whole AND group when any of its comparators names one; Helm 3.17
   * (3.3.0) only for the comparator that does.
   */
  helm?: HelmMajor;
  /** Named in the error message, e.g. `oci://host/charts/app`. */
  repository?: string;
}

const RANGE_HINT =
  'give an exact version (1.2.3) or a SemVer range: ^1.2, ~1.2, 1.2.x, >=1.0.0 <2.0.0, >=1.0.0, <2.0.0 (comma = and), ^1 || ^2';

/**
 * The tag (registry form, `_` for `+`) that `--version` selects:
 * no version → the highest release (prereleases are skipped, as Masterminds'
 * `*` does); a version equal to a tag → that tag; otherwise the highest tag
 * meeting the Masterminds constraint. A tag typed with `_` also matches
 * exactly (Helm would reject it as a constraint).
 *
 * Unlike the list-based rule, `helm pull --version V` skips the tag listing
 * when V parses as a loose version (`1.2`, `v1.2.3`) and fetches tag V as
 * typed; see isHelmExactVersion.
 *
 * An invalid constraint throws VersionNotFoundError too (code
 * VERSION_NOT_FOUND, with a hint on the range syntax): the user asked for a
 * version that cannot be found, and one code keeps callers simple.
 */
export function resolveVersionTag(tags: readonly string[], version?: string, opts: ResolveVersionOptions = {}): string {
  const candidates = semverTags(tags);
  const where = opts.repository ? ` in ${opts.repository}` : '';
  const wanted = version ?? '';
  if (wanted !== '') {
    const exact = candidates.find((c) => c.version === wanted || c.tag === wanted);
    if (exact) return exact.tag;
  }
  const constraints = versionConstraints(wanted);
  const match = candidates.find((c) => satisfies(c.parsed, constraints, opts.helm ?? 4));
  if (match) return match.tag;

  if (candidates.length === 0) {
    const others = tags.length ? `; its tags are not SemVer: ${listed(tags)}` : '';
    throw new VersionNotFoundError(`no chart versions${where}${others}`);
  }
  const available = `available: ${listed(candidates.map((c) => c.version))}`;
  if (wanted === '') {
    throw new VersionNotFoundError(`no release version${where}, only prereleases (${available})`, {
      hint: 'ask for one with --version, e.g. --version ">=0.0.0-0" for the highest prerelease',
    });
  }
  throw new VersionNotFoundError(`no version${where} matches "${wanted}" (${available})`);
}

/**
 * `--version` as a Masterminds constraint (`*` when empty); a malformed one
 * is VERSION_NOT_FOUND with a hint on the range syntax. Shared by OCI tags
 * and chart repository indexes, which choose versions the same way.
 */
export function versionConstraints(wanted: string): ReturnType<typeof parseConstraints> {
  try {
    return parseConstraints(wanted === '' ? '*' : wanted);
  } catch (e) {
    if (!(e instanceof ConstraintSyntaxError)) throw e;
    throw new VersionNotFoundError(`"${wanted}" is neither a version nor a SemVer range (${e.message})`, { hint: RANGE_HINT, cause: e });
  }
}

/**
 * Whether `helm pull/install --version V` uses V directly as the tag instead
 * of resolving it against the tag list (Helm's ValidateReference: any string
 * Masterminds' NewVersion accepts, e.g. `1.2.3`, `1.2`, `v1.2.3`).
 */
export function isHelmExactVersion(version: string): boolean {
  return parseLooseVersion(version) !== undefined;
}

/** The first few of `items` for a message, and how many more there are. */
export function listed(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
